#include "events/canonical_json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
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

/// Finds a number token longer than max_number_length outside string literals.
bool has_overlong_number(std::string_view json) {
  bool in_string = false;
  size_t run = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped character
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      run = 0;
      continue;
    }
    const bool number_char = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
                             c == 'e' || c == 'E';
    run = number_char ? run + 1 : 0;
    if (run > max_number_length) return true;
  }
  return false;
}

}  // namespace

result<std::string, json_error> canonicalize_json(std::string_view json) {
  if (has_overlong_number(json))
    return json_error{"number longer than " + std::to_string(max_number_length) + " characters"};
  // Payloads reach the store from many writers; the writer and sorter below recurse per
  // level, so depth is capped here as for every other parse, whatever the caller checked.
  if (json_deeper_than(json, max_json_depth))
    return json_error{"JSON nests deeper than " + std::to_string(max_json_depth) + " levels"};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag |
            rapidjson::kParseIterativeFlag>(
      json.data(), json.size());
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

std::string canonical_bytes(const recorded_event& e) {
  // Keys are written in sorted order by hand; the payload is already canonical.
  rapidjson::StringBuffer buf;
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
  str("principal", e.principal);
  w.Key("schema_version");
  w.Int(e.schema_version);
  str("source_address", e.source_address);
  str("stream_id", e.stream_id);
  w.Key("stream_version");
  w.Int64(e.stream_version);
  str("type", e.type);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace certctl::events
