#include "gateways/acme/dns_message.hpp"

namespace certctl::gateways::acme::dns {
namespace {

constexpr size_t header_size = 12;
constexpr size_t max_name_octets = 255;
constexpr int max_pointer_jumps = 64;

/// Reads big-endian integers from a bounded buffer; every read checks the bounds first.
class reader {
 public:
  explicit reader(std::string_view wire) : wire_(wire) {}

  bool u8(size_t at, std::uint8_t& out) const {
    if (at >= wire_.size()) return false;
    out = static_cast<std::uint8_t>(wire_[at]);
    return true;
  }
  bool u16(size_t at, std::uint16_t& out) const {
    if (at > wire_.size() || wire_.size() - at < 2) return false;
    out = static_cast<std::uint16_t>((static_cast<std::uint8_t>(wire_[at]) << 8) |
                                     static_cast<std::uint8_t>(wire_[at + 1]));
    return true;
  }
  bool u32(size_t at, std::uint32_t& out) const {
    std::uint16_t hi = 0, lo = 0;
    if (!u16(at, hi) || !u16(at + 2, lo)) return false;
    out = (static_cast<std::uint32_t>(hi) << 16) | lo;
    return true;
  }
  std::string_view bytes(size_t at, size_t n) const { return wire_.substr(at, n); }
  size_t size() const { return wire_.size(); }

  /// The name at `at`; `next` is where the record continues (after the name's first
  /// pointer, or after its terminating zero label).
  result<std::string, error> name(size_t at, size_t& next) const {
    std::string out;
    size_t pos = at;
    size_t octets = 1;  // the root label
    bool jumped = false;
    int jumps = 0;
    for (;;) {
      std::uint8_t len = 0;
      if (!u8(pos, len)) return error{"name runs past the end of the message"};
      if ((len & 0xC0) == 0xC0) {
        std::uint8_t low = 0;
        if (!u8(pos + 1, low)) return error{"compression pointer is cut off"};
        const size_t target = (static_cast<size_t>(len & 0x3F) << 8) | low;
        // Strictly backwards, so a chain of pointers always ends; the count is a second net.
        if (target >= pos) return error{"compression pointer does not point backwards"};
        if (++jumps > max_pointer_jumps) return error{"too many compression pointers"};
        if (!jumped) next = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if ((len & 0xC0) != 0) return error{"unknown label type"};
      if (len == 0) {
        if (!jumped) next = pos + 1;
        return out;
      }
      if (pos + 1 + len > wire_.size()) return error{"label runs past the end"};
      octets += 1 + len;
      if (octets > max_name_octets) return error{"name is longer than 255 octets"};
      if (!out.empty()) out += '.';
      out += escape_label(wire_.substr(pos + 1, len));
      pos += 1 + len;
    }
  }

  static std::string escape_label(std::string_view label) {
    std::string out;
    for (char ch : label) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
      if (c == '.' || c == '\\' || c <= 0x20 || c >= 0x7F) {
        const char digits[] = {'\\', static_cast<char>('0' + c / 100),
                               static_cast<char>('0' + c / 10 % 10),
                               static_cast<char>('0' + c % 10)};
        out.append(digits, 4);
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }

 private:
  std::string_view wire_;
};

void put16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xFF);
}

result<std::vector<std::string>, error> txt_strings(std::string_view rdata) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < rdata.size()) {
    const size_t len = static_cast<std::uint8_t>(rdata[pos]);
    if (pos + 1 + len > rdata.size()) return error{"TXT string runs past its record"};
    out.emplace_back(rdata.substr(pos + 1, len));
    pos += 1 + len;
  }
  return out;
}

}  // namespace

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (!out.empty() || start > 0) out += '.';
    out += reader::escape_label(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

result<std::string, error> encode_query(std::uint16_t id, std::string_view name,
                                        std::uint16_t type) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return error{"empty query name"};
  std::string out;
  put16(out, id);
  put16(out, 0x0100);  // standard query, recursion desired
  put16(out, 1);       // one question
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  size_t start = 0, octets = 1;
  for (;;) {
    const size_t dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (label.empty() || label.size() > 63) return error{"bad label in query name"};
    octets += 1 + label.size();
    if (octets > max_name_octets) return error{"query name is longer than 255 octets"};
    out += static_cast<char>(label.size());
    out.append(label.data(), label.size());
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  out += '\0';
  put16(out, type);
  put16(out, class_in);
  return out;
}

result<message, error> decode(std::string_view wire) {
  reader in(wire);
  if (wire.size() < header_size) return error{"message shorter than its header"};
  message m;
  std::uint16_t flags = 0, qd = 0, an = 0;
  in.u16(0, m.id);
  in.u16(2, flags);
  in.u16(4, qd);
  in.u16(6, an);
  m.response = (flags & 0x8000) != 0;
  m.opcode = static_cast<std::uint8_t>((flags >> 11) & 0x0F);
  m.truncated = (flags & 0x0200) != 0;
  m.rcode = static_cast<std::uint8_t>(flags & 0x000F);
  size_t pos = header_size;
  for (std::uint16_t i = 0; i < qd; ++i) {
    question q;
    size_t next = 0;
    auto n = in.name(pos, next);
    if (!n) return error{"question " + std::to_string(i) + ": " + n.error().message};
    q.name = std::move(n).value();
    if (!in.u16(next, q.type) || !in.u16(next + 2, q.klass)) return error{"question is cut off"};
    pos = next + 4;
    m.questions.push_back(std::move(q));
  }
  for (std::uint16_t i = 0; i < an; ++i) {
    record rr;
    size_t next = 0;
    auto n = in.name(pos, next);
    if (!n) return error{"answer " + std::to_string(i) + ": " + n.error().message};
    rr.name = std::move(n).value();
    std::uint16_t rdlength = 0;
    if (!in.u16(next, rr.type) || !in.u16(next + 2, rr.klass) || !in.u32(next + 4, rr.ttl) ||
        !in.u16(next + 8, rdlength))
      return error{"answer " + std::to_string(i) + " is cut off"};
    const size_t rdata_at = next + 10;
    if (rdata_at + rdlength > in.size())
      return error{"answer " + std::to_string(i) + ": rdata runs past the end"};
    const auto rdata = in.bytes(rdata_at, rdlength);
    if (rr.type == type_txt) {
      auto strings = txt_strings(rdata);
      if (!strings) return error{"answer " + std::to_string(i) + ": " + strings.error().message};
      rr.txt = std::move(strings).value();
    } else if (rr.type == type_cname) {
      size_t end = 0;
      auto target = in.name(rdata_at, end);
      if (!target) return error{"answer " + std::to_string(i) + ": " + target.error().message};
      if (end != rdata_at + rdlength)
        return error{"answer " + std::to_string(i) + ": CNAME does not fill its record"};
      rr.target = std::move(target).value();
    }
    pos = rdata_at + rdlength;
    m.answers.push_back(std::move(rr));
  }
  return m;
}

}  // namespace certctl::gateways::acme::dns
