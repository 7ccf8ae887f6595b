#pragma once
/// PRIVATE to infra/crypto (jws.cpp, jwk.cpp): strict JSON for JOSE objects. Every byte here
/// comes from the network, so parsing is iterative (no recursion to exhaust), size-bounded,
/// refuses duplicate member names (parsers disagree on which one wins, so a signed header
/// could mean two things) and refuses strings that decode to invalid UTF-8 (RapidJSON lets a
/// lone surrogate escape such as "\ud800" through).

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <set>
#include <string>
#include <string_view>

#include "events/json_depth.hpp"

namespace certctl::crypto::detail {

/// True when `s` is well-formed UTF-8 without surrogates or overlong forms.
inline bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // U+D800..U+DFFF are surrogates, never characters
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) return false;
    }
    i += n + 1;
  }
  return true;
}

/// Walks a parsed value: duplicate names, invalid strings and nesting deeper than 8 levels
/// are refused (the JOSE objects we accept are two levels deep).
inline bool check_value(const rapidjson::Value& v, int depth, std::string& why) {
  if (depth > 8) {
    why = "JSON nested too deeply";
    return false;
  }
  if (v.IsString()) {
    if (!valid_utf8({v.GetString(), v.GetStringLength()})) {
      why = "JSON string is not valid UTF-8";
      return false;
    }
  } else if (v.IsObject()) {
    std::set<std::string_view> names;
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      const std::string_view name(it->name.GetString(), it->name.GetStringLength());
      if (!valid_utf8(name)) {
        why = "JSON member name is not valid UTF-8";
        return false;
      }
      if (!names.insert(name).second) {
        why = "duplicate JSON member '" + std::string(name) + "'";
        return false;
      }
      if (!check_value(it->value, depth + 1, why)) return false;
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray())
      if (!check_value(e, depth + 1, why)) return false;
  }
  return true;
}

/// Parses `text` as one JSON object under the rules above; false with `why` otherwise.
inline bool parse_strict_object(std::string_view text, rapidjson::Document& doc, std::string& why) {
  // The shared guard of every untrusted JSON parser: refused before parsing, by a flat scan.
  if (events::json_deeper_than(text, events::max_untrusted_json_depth)) {
    why = "JSON nested too deeply";
    return false;
  }
  // Without kParseStopWhenDoneFlag, content after the value is a parse error.
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<flags>(text.data(), text.size());
  if (doc.HasParseError()) {
    why = std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
          rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  if (!doc.IsObject()) {
    why = "JSON value is not an object";
    return false;
  }
  return check_value(doc, 0, why);
}

}  // namespace certctl::crypto::detail
