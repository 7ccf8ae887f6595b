#include "events/canonical_json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/json_depth.hpp"

namespace certctl::events {
namespace {

// Validating writer: RapidJSON's parser accepts a lone surrogate escape such as "\ude00" and
// would write it out as invalid UTF-8; validation makes that a refusal instead (found by the
// canonical_json fuzz target).
using writer_t = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                   rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>;

bool write_sorted(const rapidjson::Value& v, writer_t& w, std::string& err) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    members.reserve(v.MemberCount());
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) members.push_back(&*it);
    auto key = [](const rapidjson::Value::Member* m) {
      return std::string_view(m->name.GetString(), m->name.GetStringLength());
    };
    std::sort(members.begin(), members.end(), [&](auto* a, auto* b) { return key(a) < key(b); });
    for (size_t i = 1; i < members.size(); ++i) {
      if (key(members[i]) == key(members[i - 1])) {
        err = "duplicate object key \"" + std::string(key(members[i])) + "\"";
        return false;
      }
    }
    w.StartObject();
    for (auto* m : members) {
      if (!w.Key(m->name.GetString(), m->name.GetStringLength())) {
        err = "object key is not valid UTF-8";
        return false;
      }
      if (!write_sorted(m->value, w, err)) return false;
    }
    w.EndObject();
    return true;
  }
  if (v.IsArray()) {
    w.StartArray();
    for (auto& item : v.GetArray())
      if (!write_sorted(item, w, err)) return false;
    w.EndArray();
    return true;
  }
  if (!v.Accept(w)) {
    err = v.IsString() ? "string is not valid UTF-8 (lone surrogate escape?)"
                       : "value cannot be represented in JSON (NaN or infinity)";
    return false;
  }
  return true;
}

/// Longest number token accepted. RapidJSON 1.1's full-precision number parser reads past a
/// table for very long mantissas (a crash found by the canonical_json fuzz target), and no
/// payload of ours needs more than a double's 17 significant digits plus exponent.
constexpr size_t max_number_length = 64;

bool is_number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/// True for a number token whose significand is zero and which has an exponent ("0e244",
/// "-0.0E5"). RapidJSON 1.1's full-precision path turns such a zero into a huge number
/// (Tencent/rapidjson#1249, found by the canonical_json fuzz target), and the canonical form is
/// what we store and hash, so these tokens are rewritten to the zero they denote first.
bool is_zero_with_exponent(std::string_view token) {
  // Only valid JSON is rewritten (-?0(.0+)?[eE][+-]?[0-9]+); anything else is left for the
  // parser to refuse.
  size_t i = 0;
  if (i < token.size() && token[i] == '-') ++i;
  if (i >= token.size() || token[i] != '0') return false;
  ++i;
  if (i < token.size() && token[i] == '.') {
    const size_t first = ++i;
    while (i < token.size() && token[i] == '0') ++i;
    if (i == first) return false;
  }
  if (i >= token.size() || (token[i] != 'e' && token[i] != 'E')) return false;
  ++i;
  if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
  const size_t digits = i;
  while (i < token.size() && token[i] >= '0' && token[i] <= '9') ++i;
  return i > digits && i == token.size();
}

/// Checks the number tokens outside string literals: one longer than max_number_length is an
/// error; a zero with an exponent is rewritten into `rewritten` (left empty when nothing needs
/// rewriting, so the common case copies nothing).
std::optional<json_error> scan_numbers(std::string_view json, std::string& rewritten) {
  bool in_string = false;
  size_t copied = 0;  // json[0, copied) is already in `rewritten`
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // skip the escaped character
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (!is_number_char(c)) continue;
    size_t end = i;
    while (end < json.size() && is_number_char(json[end])) ++end;
    const std::string_view token = json.substr(i, end - i);
    if (token.size() > max_number_length)
      return json_error{"number longer than " + std::to_string(max_number_length) + " characters"};
    if (is_zero_with_exponent(token)) {
      rewritten.append(json.substr(copied, i - copied));
      rewritten.append(c == '-' ? "-0.0" : "0.0");
      copied = end;
    }
    i = end - 1;
  }
  if (copied > 0) rewritten.append(json.substr(copied));
  return std::nullopt;
}

}  // namespace

result<std::string, json_error> canonicalize_json(std::string_view input) {
  std::string rewritten;
  if (auto bad = scan_numbers(input, rewritten)) return *bad;
  const std::string_view json = rewritten.empty() ? input : std::string_view(rewritten);
  // Payloads reach the store from many writers; the writer and sorter below recurse per
  // level, so depth is capped here as for every other parse, whatever the caller checked.
  if (json_deeper_than(json, max_json_depth))
    return json_error{"JSON nests deeper than " + std::to_string(max_json_depth) + " levels"};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag |
            rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return json_error{std::string("invalid JSON at offset ") +
                      std::to_string(doc.GetErrorOffset()) + ": " +
                      rapidjson::GetParseError_En(doc.GetParseError())};
  }
  rapidjson::StringBuffer buf;
  writer_t w(buf);
  std::string err;
  if (!write_sorted(doc, w, err)) return json_error{err};
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

/// Writes the canonical envelope of `e`; `position_end` receives the offset just past the
/// digits of its position.
void write_canonical(const recorded_event& e, rapidjson::StringBuffer& buf, size_t& position_end) {
  // Keys are written in sorted order by hand; the payload is already canonical.
  // Not validating: every byte of the envelope must reach the hash, never a truncation.
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("causation_id", e.causation_id);
  str("correlation_id", e.correlation_id);
  str("event_id", e.event_id);
  w.Key("occurred_at");
  w.Int64(e.occurred_at);
  w.Key("payload");
  w.RawValue(e.payload.data(), e.payload.size(), rapidjson::kObjectType);
  w.Key("position");
  w.Int64(e.position);
  position_end = buf.GetSize();
  str("principal", e.principal);
  w.Key("schema_version");
  w.Int(e.schema_version);
  str("source_address", e.source_address);
  str("stream_id", e.stream_id);
  w.Key("stream_version");
  w.Int64(e.stream_version);
  str("type", e.type);
  w.EndObject();
}

}  // namespace

std::string canonical_bytes(const recorded_event& e) {
  rapidjson::StringBuffer buf;
  size_t position_end = 0;
  write_canonical(e, buf, position_end);
  return std::string(buf.GetString(), buf.GetSize());
}

canonical_parts canonical_bytes_around_position(const recorded_event& e) {
  rapidjson::StringBuffer buf;
  size_t position_end = 0;
  write_canonical(e, buf, position_end);
  // The digits end at position_end and are exactly to_string(position) (Int64's output).
  const size_t digits = std::to_string(e.position).size();
  const std::string_view all(buf.GetString(), buf.GetSize());
  return canonical_parts{std::string(all.substr(0, position_end - digits)),
                         std::string(all.substr(position_end))};
}

}  // namespace certctl::events
