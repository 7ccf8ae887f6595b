#include "gateways/http/json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>

#include "events/json_depth.hpp"

namespace certctl::gateways::http {
namespace {

std::string_view name_of(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

std::string_view type_name(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

std::optional<api_error> too_large_or_deep(std::string_view body, std::size_t max_bytes) {
  if (body.size() > max_bytes)
    return api_error{413, "request body is larger than " + std::to_string(max_bytes) + " bytes"};
  // Before parsing: the document's writers and deep copies recurse once per level.
  if (events::json_deeper_than(body, events::max_untrusted_json_depth))
    return api_error{400, "request body nests arrays/objects deeper than " +
                              std::to_string(events::max_untrusted_json_depth) + " levels"};
  return std::nullopt;
}

}  // namespace

certctl::result<rapidjson::Document, api_error> parse_json(std::string_view body,
                                                           std::size_t max_bytes) {
  if (auto e = too_large_or_deep(body, max_bytes)) return *e;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return api_error{400, "request body is empty (expected JSON)"};
  }
  rapidjson::Document doc;
  // Iterative: deeply nested input cannot exhaust the stack. ValidateEncoding: reject invalid
  // UTF-8 here rather than echo it into events and logs.
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<flags>(body.data(), body.size());
  if (doc.HasParseError()) {
    return api_error{400, "invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                              rapidjson::GetParseError_En(doc.GetParseError())};
  }
  return doc;
}

certctl::result<events::json_object, api_error> parse_json_object(std::string_view body,
                                                                  std::size_t max_bytes) {
  if (auto e = too_large_or_deep(body, max_bytes)) return *e;
  if (body.empty()) return events::json_object{};
  std::string why;
  auto parsed = events::json_object::parse(body, &why);
  if (!parsed) return api_error{400, "request body is not a JSON object: " + why};
  return std::move(*parsed);
}

field_reader::field_reader(const rapidjson::Value& value, std::string prefix)
    : value_(value), prefix_(std::move(prefix)) {
  if (!value_.IsObject()) {
    fail(prefix_.empty()
             ? "request body must be a JSON object"
             : "field '" + prefix_.substr(0, prefix_.size() - 1) + "' must be an object");
  }
}

void field_reader::fail(std::string message) {
  if (!error_) error_ = api_error{400, std::move(message)};
}

void field_reader::type_error(std::string_view field, std::string_view expected) {
  fail("field '" + prefix_ + std::string(field) + "' must be " + std::string(expected));
}

const rapidjson::Value* field_reader::find(std::string_view field, bool required) {
  if (error_ || !value_.IsObject()) return nullptr;
  const rapidjson::Value* found = nullptr;
  for (auto it = value_.MemberBegin(); it != value_.MemberEnd(); ++it) {
    if (name_of(it->name) != field) continue;
    if (found) {
      // Parsers disagree on which duplicate wins; refusing avoids acting on a different value
      // than a proxy or auditor saw.
      fail("field '" + prefix_ + std::string(field) + "' appears more than once");
      return nullptr;
    }
    found = &it->value;
  }
  if (found && found->IsNull()) found = nullptr;
  if (!found && required) fail("field '" + prefix_ + std::string(field) + "' is required");
  return found;
}

std::string field_reader::required_string(std::string_view field) {
  auto v = optional_string(field);
  if (!v && ok()) fail("field '" + prefix_ + std::string(field) + "' is required");
  return v ? std::move(*v) : std::string();
}

std::optional<std::string> field_reader::optional_string(std::string_view field) {
  const auto* v = find(field, false);
  if (!v) return std::nullopt;
  if (!v->IsString()) {
    type_error(field, "a string");
    return std::nullopt;
  }
  return std::string(v->GetString(), v->GetStringLength());
}

std::int64_t field_reader::required_int(std::string_view field) {
  auto v = optional_int(field);
  if (!v && ok()) fail("field '" + prefix_ + std::string(field) + "' is required");
  return v.value_or(0);
}

std::optional<std::int64_t> field_reader::optional_int(std::string_view field) {
  const auto* v = find(field, false);
  if (!v) return std::nullopt;
  if (!v->IsInt64()) {
    type_error(field, "an integer");
    return std::nullopt;
  }
  return v->GetInt64();
}

std::optional<bool> field_reader::optional_bool(std::string_view field) {
  const auto* v = find(field, false);
  if (!v) return std::nullopt;
  if (!v->IsBool()) {
    type_error(field, "a boolean");
    return std::nullopt;
  }
  return v->GetBool();
}

std::vector<std::string> field_reader::string_array(std::string_view field) {
  std::vector<std::string> out;
  const auto* v = find(field, false);
  if (!v) return out;
  if (!v->IsArray()) {
    type_error(field, "an array of strings");
    return out;
  }
  for (const auto& item : v->GetArray()) {
    if (!item.IsString()) {
      type_error(field, "an array of strings");
      return {};
    }
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

const rapidjson::Value* field_reader::optional_object(std::string_view field) {
  const auto* v = find(field, false);
  if (!v) return nullptr;
  if (!v->IsObject()) {
    type_error(field, "an object");
    return nullptr;
  }
  return v;
}

void field_reader::reject_unknown(std::initializer_list<std::string_view> known) {
  if (error_ || !value_.IsObject()) return;
  for (auto it = value_.MemberBegin(); it != value_.MemberEnd(); ++it) {
    const auto name = name_of(it->name);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      fail("unknown field '" + prefix_ + std::string(name) + "' (" +
           std::string(type_name(it->value)) + ")");
      return;
    }
  }
}

json_writer::json_writer() : w_(buf_) {}

json_writer& json_writer::begin_object() {
  w_.StartObject();
  return *this;
}
json_writer& json_writer::end_object() {
  w_.EndObject();
  return *this;
}
json_writer& json_writer::begin_array() {
  w_.StartArray();
  return *this;
}
json_writer& json_writer::end_array() {
  w_.EndArray();
  return *this;
}
json_writer& json_writer::key(std::string_view k) {
  w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  return *this;
}
json_writer& json_writer::string(std::string_view v) {
  w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  return *this;
}
json_writer& json_writer::int64(std::int64_t v) {
  w_.Int64(v);
  return *this;
}
json_writer& json_writer::uint64(std::uint64_t v) {
  w_.Uint64(v);
  return *this;
}
json_writer& json_writer::boolean(bool v) {
  w_.Bool(v);
  return *this;
}
json_writer& json_writer::null() {
  w_.Null();
  return *this;
}
json_writer& json_writer::raw(std::string_view json) {
  w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  return *this;
}

std::string json_writer::str() const {
  return std::string(buf_.GetString(), buf_.GetSize());
}

std::string json_object_of(std::string_view k, std::string_view v) {
  json_writer w;
  w.begin_object().field(k, v).end_object();
  return w.str();
}

}  // namespace certctl::gateways::http
