#pragma once
/// JSON in and out of REST handlers (RapidJSON). Request bodies are untrusted: parsing is
/// size-limited, depth-limited (events::max_untrusted_json_depth, checked before parsing),
/// iterative (no recursion depth to exhaust), UTF-8 validated, and every failure is a 400 whose
/// message says what and where ("invalid JSON at offset 12: Missing a colon after a name of
/// object member.", "field 'common_name' must be a string"). Every gateway parses bodies here.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/json.hpp"
#include "events/result.hpp"
#include "gateways/http/http_types.hpp"

namespace certctl::gateways::http {

inline constexpr std::size_t default_max_json_bytes = 1 << 20;

/// Parses a whole request body. 413 when larger than `max_bytes`, 400 when empty, nested
/// deeper than events::max_untrusted_json_depth, malformed or followed by trailing content.
certctl::result<rapidjson::Document, api_error> parse_json(
    std::string_view body, std::size_t max_bytes = default_max_json_bytes);

/// The same limits and messages, for bodies that become commands (events::json_object): an
/// empty body is {}; anything but an object is a 400.
certctl::result<events::json_object, api_error> parse_json_object(
    std::string_view body, std::size_t max_bytes = default_max_json_bytes);

/// Reads typed fields from one JSON object, remembering the first problem so a handler can read
/// every field and check once:
///
///     field_reader in(doc, "");
///     auto cn = in.required_string("common_name");
///     auto sans = in.string_array("sans");
///     in.reject_unknown({"common_name", "sans"});   // optional strictness
///     if (auto e = in.error()) return to_response(*e);
///
/// Absent and `null` optional fields yield nullopt/empty. A present field of the wrong type is
/// always an error. Unknown fields are ignored (as the reference server does) unless the handler
/// calls reject_unknown(). `prefix` names nested objects in messages ("subject.").
class field_reader {
 public:
  field_reader(const rapidjson::Value& value, std::string prefix = {});

  std::string required_string(std::string_view field);
  std::optional<std::string> optional_string(std::string_view field);
  std::int64_t required_int(std::string_view field);
  std::optional<std::int64_t> optional_int(std::string_view field);
  std::optional<bool> optional_bool(std::string_view field);
  /// Array of strings; absent or null -> empty.
  std::vector<std::string> string_array(std::string_view field);
  /// A nested object (nullptr when absent/null or on error); read it with another field_reader
  /// whose prefix is `prefix + field + "."`.
  const rapidjson::Value* optional_object(std::string_view field);

  /// Records "unknown field 'x'" for the first member not in `known`.
  void reject_unknown(std::initializer_list<std::string_view> known);

  /// Records a custom validation failure (first one wins), e.g. "field 'days' must be >= 1".
  void fail(std::string message);

  const std::optional<api_error>& error() const { return error_; }
  bool ok() const { return !error_.has_value(); }

 private:
  /// nullptr when absent or null; records "is required" when `required`.
  const rapidjson::Value* find(std::string_view field, bool required);
  void type_error(std::string_view field, std::string_view expected);

  const rapidjson::Value& value_;
  std::string prefix_;
  std::optional<api_error> error_;
};

/// A compact JSON writer for response bodies.
class json_writer {
 public:
  json_writer();

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& string(std::string_view v);
  json_writer& int64(std::int64_t v);
  json_writer& uint64(std::uint64_t v);
  json_writer& boolean(bool v);
  json_writer& null();
  /// Inserts an already serialised JSON value verbatim (e.g. a projection's stored document).
  json_writer& raw(std::string_view json);

  /// key + value shortcuts for the common cases.
  json_writer& field(std::string_view k, std::string_view v) { return key(k).string(v); }
  json_writer& field(std::string_view k, const char* v) { return key(k).string(v); }
  json_writer& field(std::string_view k, std::int64_t v) { return key(k).int64(v); }
  json_writer& field(std::string_view k, int v) { return key(k).int64(v); }
  json_writer& field(std::string_view k, bool v) { return key(k).boolean(v); }

  /// The document so far (complete once every begin has its end).
  std::string str() const;

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

/// `{"<k>": "<v>"}`: the many one-field bodies ({"status": "healthy"}, ...).
std::string json_object_of(std::string_view k, std::string_view v);

}  // namespace certctl::gateways::http
