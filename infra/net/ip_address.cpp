#include "infra/net/ip_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace certctl::net {
namespace {

using bytes16 = std::array<std::uint8_t, 16>;

/// True when the first `bits` bits of `a` equal those of `p`.
bool prefix_match(const std::uint8_t* a, const std::uint8_t* p, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a, p, static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (p[whole] & mask);
}

bool in4(const ip_address& a, std::uint8_t b0, std::uint8_t b1, std::uint8_t b2, int bits) {
  const std::uint8_t p[4] = {b0, b1, b2, 0};
  return prefix_match(a.bytes.data(), p, bits);
}

bool in6(const ip_address& a, const bytes16& p, int bits) {
  return prefix_match(a.bytes.data(), p.data(), bits);
}

ip_address v4_at(const ip_address& a, std::size_t offset) {
  ip_address r;
  std::memcpy(r.bytes.data(), a.bytes.data() + offset, 4);
  return r;
}

address_class classify_v4(const ip_address& a) {
  const auto& b = a.bytes;
  if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) return address_class::unspecified;
  if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return address_class::broadcast;
  if (b[0] == 0) return address_class::reserved;  // "this network" (RFC 791)
  if (b[0] == 127) return address_class::loopback;
  if (b[0] == 10 || in4(a, 172, 16, 0, 12) || in4(a, 192, 168, 0, 16))
    return address_class::private_use;
  if (in4(a, 100, 64, 0, 10)) return address_class::shared_cgnat;
  if (in4(a, 169, 254, 0, 16)) return address_class::link_local;
  if (in4(a, 192, 0, 2, 24) || in4(a, 198, 51, 100, 24) || in4(a, 203, 0, 113, 24))
    return address_class::documentation;
  if (in4(a, 198, 18, 0, 15)) return address_class::benchmarking;
  if (in4(a, 224, 0, 0, 4)) return address_class::multicast;
  // 192.0.0/24 IETF protocol assignments, 192.88.99/24 retired 6to4 relays, 240/4 future use.
  if (in4(a, 192, 0, 0, 24) || in4(a, 192, 88, 99, 24) || in4(a, 240, 0, 0, 4))
    return address_class::reserved;
  return address_class::public_unicast;
}

address_class classify_v6(const ip_address& a) {
  const auto& b = a.bytes;
  static const bytes16 zero{};
  static const bytes16 loop{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const bytes16 mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const bytes16 nat64{0, 0x64, 0xff, 0x9b};
  static const bytes16 nat64_local{0, 0x64, 0xff, 0x9b, 0, 1};
  static const bytes16 six_to_four{0x20, 0x02};
  static const bytes16 discard{0x01, 0x00};
  static const bytes16 bench{0x20, 0x01, 0x00, 0x02};
  static const bytes16 ietf{0x20, 0x01};
  static const bytes16 doc{0x20, 0x01, 0x0d, 0xb8};
  static const bytes16 doc2{0x3f, 0xff};
  static const bytes16 global{0x20};
  if (b == zero) return address_class::unspecified;
  if (b == loop) return address_class::loopback;
  if (in6(a, mapped, 96)) return classify_v4(v4_at(a, 12));
  if (in6(a, nat64, 96)) return classify_v4(v4_at(a, 12));
  if (in6(a, nat64_local, 48)) return address_class::private_use;
  if (in6(a, six_to_four, 16)) return classify_v4(v4_at(a, 2));
  if (b[0] == 0xff) return address_class::multicast;
  if ((b[0] & 0xfe) == 0xfc) return address_class::private_use;                 // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return address_class::link_local;  // fe80::/10
  if (in6(a, doc, 32) || in6(a, doc2, 20)) return address_class::documentation;
  if (in6(a, bench, 48)) return address_class::benchmarking;
  // 2001::/23 holds Teredo and other IETF assignments: not a place a challenge lives.
  if (in6(a, discard, 64) || in6(a, ietf, 23)) return address_class::reserved;
  // Everything outside 2000::/3 (global unicast) is unallocated, deprecated (::/96
  // IPv4-compatible, fec0::/10 site-local) or special: none is a public destination.
  if (!in6(a, global, 3)) return address_class::reserved;
  return address_class::public_unicast;
}

}  // namespace

const char* to_string(address_class c) {
  switch (c) {
    case address_class::public_unicast:
      return "public_unicast";
    case address_class::loopback:
      return "loopback";
    case address_class::private_use:
      return "private_use";
    case address_class::link_local:
      return "link_local";
    case address_class::multicast:
      return "multicast";
    case address_class::unspecified:
      return "unspecified";
    case address_class::broadcast:
      return "broadcast";
    case address_class::shared_cgnat:
      return "shared_cgnat";
    case address_class::documentation:
      return "documentation";
    case address_class::benchmarking:
      return "benchmarking";
    case address_class::reserved:
      return "reserved";
  }
  return "reserved";
}

address_class classify(const ip_address& a) {
  return a.v6 ? classify_v6(a) : classify_v4(a);
}

bool parse_ip(const std::string& text, ip_address& out) {
  ip_address a;
  if (::inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    out = a;
    return true;
  }
  a.v6 = true;
  if (::inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    out = a;
    return true;
  }
  return false;
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

bool cidr::contains(const ip_address& a) const {
  if (base.v6 == a.v6) return prefix_match(a.bytes.data(), base.bytes.data(), prefix);
  static const bytes16 mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!base.v6 && prefix_match(a.bytes.data(), mapped.data(), 96))
    return prefix_match(a.bytes.data() + 12, base.bytes.data(), prefix);
  return false;
}

std::string to_string(const cidr& c) {
  return to_string(c.base) + "/" + std::to_string(c.prefix);
}

result<cidr, cidr_error> parse_cidr(const std::string& text) {
  const auto slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  cidr c;
  if (!parse_ip(addr, c.base)) return cidr_error{"'" + text + "' is not an IPv4 or IPv6 CIDR"};
  const int max = c.base.v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string::npos) {
    const std::string bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 ||
        bits.find_first_not_of("0123456789") != std::string::npos)
      return cidr_error{"'" + text + "' has no valid prefix length"};
    c.prefix = std::stoi(bits);
    if (c.prefix > max)
      return cidr_error{"'" + text + "': prefix length above " + std::to_string(max)};
  }
  for (int bit = c.prefix; bit < max; ++bit) {
    if (c.base.bytes[static_cast<std::size_t>(bit / 8)] & (0x80 >> (bit % 8)))
      return cidr_error{"'" + text + "' has host bits set (did you mean " + to_string(c.base) +
                        "/" + std::to_string(max) + "?)"};
  }
  return c;
}

result<std::vector<cidr>, cidr_error> parse_cidr_list(const std::string& text) {
  std::vector<cidr> out;
  const auto blank = [](char ch) { return ch == ' ' || ch == '\t'; };
  if (text.find_first_not_of(" \t") == std::string::npos) return out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    std::string entry = text.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!entry.empty() && blank(entry.front())) entry.erase(entry.begin());
    while (!entry.empty() && blank(entry.back())) entry.pop_back();
    if (entry.empty()) return cidr_error{"empty entry in the CIDR list '" + text + "'"};
    auto c = parse_cidr(entry);
    if (!c) return c.error();
    out.push_back(*c);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace certctl::net
