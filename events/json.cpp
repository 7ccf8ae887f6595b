#include "events/json.hpp"

#include "events/json_depth.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace certctl::events {

struct json_object::impl {
  rapidjson::Document doc;
  impl() { doc.SetObject(); }
  const rapidjson::Value* get(const char* key) const {
    auto it = doc.FindMember(key);
    return it == doc.MemberEnd() ? nullptr : &it->value;
  }
  void put(const char* key, rapidjson::Value v) {
    auto& a = doc.GetAllocator();
    auto it = doc.FindMember(key);
    if (it != doc.MemberEnd()) {
      it->value = std::move(v);
    } else {
      doc.AddMember(rapidjson::Value(key, a), std::move(v), a);
    }
  }
};

json_object::json_object() : impl_(std::make_unique<impl>()) {}
json_object::~json_object() = default;
json_object::json_object(const json_object& other) : impl_(std::make_unique<impl>()) {
  impl_->doc.CopyFrom(other.impl_->doc, impl_->doc.GetAllocator());
}
json_object& json_object::operator=(const json_object& other) {
  if (this != &other) {
    impl_ = std::make_unique<impl>();
    impl_->doc.CopyFrom(other.impl_->doc, impl_->doc.GetAllocator());
  }
  return *this;
}
json_object::json_object(json_object&&) noexcept = default;
json_object& json_object::operator=(json_object&&) noexcept = default;

std::optional<json_object> json_object::parse(std::string_view text, std::string* error) {
  // The depth cap first: the UTF-8 probe below, CopyFrom and dump() all recurse per level.
  if (json_deeper_than(text, max_json_depth)) {
    if (error)
      *error =
          "JSON nests arrays/objects deeper than " + std::to_string(max_json_depth) + " levels";
    return std::nullopt;
  }
  json_object out;
  // Iterative: the parser keeps its own heap stack instead of recursing per level.
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  out.impl_->doc.Parse<flags>(text.data(), text.size());
  if (out.impl_->doc.HasParseError()) {
    if (error)
      *error = "invalid JSON at offset " + std::to_string(out.impl_->doc.GetErrorOffset()) + ": " +
               rapidjson::GetParseError_En(out.impl_->doc.GetParseError());
    return std::nullopt;
  }
  if (!out.impl_->doc.IsObject()) {
    if (error) *error = "expected a JSON object";
    return std::nullopt;
  }
  // The parser lets a lone surrogate escape ("\ude00") through; such a document could not be
  // written back as valid UTF-8, so it is refused here, at the edge.
  rapidjson::StringBuffer probe;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                    rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>
      w(probe);
  if (!out.impl_->doc.Accept(w)) {
    if (error) *error = "JSON string is not valid UTF-8 (lone surrogate escape?)";
    return std::nullopt;
  }
  return out;
}

bool json_object::has(const char* key) const {
  return impl_->get(key) != nullptr;
}
bool json_object::is_null(const char* key) const {
  auto* v = impl_->get(key);
  return v && v->IsNull();
}
bool json_object::is_string(const char* key) const {
  auto* v = impl_->get(key);
  return v && v->IsString();
}
bool json_object::is_int(const char* key) const {
  auto* v = impl_->get(key);
  return v && v->IsInt64();
}
bool json_object::is_bool(const char* key) const {
  auto* v = impl_->get(key);
  return v && v->IsBool();
}
bool json_object::is_array(const char* key) const {
  auto* v = impl_->get(key);
  return v && v->IsArray();
}
bool json_object::is_string_array(const char* key) const {
  auto* v = impl_->get(key);
  if (!v || !v->IsArray()) return false;
  for (auto& item : v->GetArray())
    if (!item.IsString()) return false;
  return true;
}
bool json_object::is_object(const char* key) const {
  auto* v = impl_->get(key);
  return v && v->IsObject();
}

std::string json_object::str(const char* key, const std::string& fallback) const {
  auto* v = impl_->get(key);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : fallback;
}
std::int64_t json_object::int64(const char* key, std::int64_t fallback) const {
  auto* v = impl_->get(key);
  return v && v->IsInt64() ? v->GetInt64() : fallback;
}
bool json_object::boolean(const char* key, bool fallback) const {
  auto* v = impl_->get(key);
  return v && v->IsBool() ? v->GetBool() : fallback;
}
std::vector<std::string> json_object::str_array(const char* key) const {
  std::vector<std::string> out;
  auto* v = impl_->get(key);
  if (v && v->IsArray())
    for (auto& item : v->GetArray())
      if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
  return out;
}
std::vector<json_object> json_object::object_array(const char* key) const {
  std::vector<json_object> out;
  auto* v = impl_->get(key);
  if (v && v->IsArray())
    for (auto& item : v->GetArray())
      if (item.IsObject()) {
        json_object o;
        o.impl_->doc.CopyFrom(item, o.impl_->doc.GetAllocator());
        out.push_back(std::move(o));
      }
  return out;
}
std::map<std::string, std::string> json_object::str_map(const char* key) const {
  std::map<std::string, std::string> out;
  auto* v = impl_->get(key);
  if (v && v->IsObject())
    for (auto& m : v->GetObject())
      if (m.value.IsString())
        out[m.name.GetString()] = std::string(m.value.GetString(), m.value.GetStringLength());
  return out;
}
std::string json_object::raw(const char* key) const {
  auto* v = impl_->get(key);
  if (!v) return "null";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v->Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}
std::vector<std::string> json_object::keys() const {
  std::vector<std::string> out;
  for (auto& m : impl_->doc.GetObject()) out.emplace_back(m.name.GetString());
  return out;
}

json_object& json_object::set(const char* key, const std::string& v) {
  impl_->put(key, rapidjson::Value(v.data(), static_cast<rapidjson::SizeType>(v.size()),
                                   impl_->doc.GetAllocator()));
  return *this;
}
json_object& json_object::set(const char* key, std::int64_t v) {
  impl_->put(key, rapidjson::Value(v));
  return *this;
}
json_object& json_object::set(const char* key, bool v) {
  impl_->put(key, rapidjson::Value(v));
  return *this;
}
json_object& json_object::set(const char* key, const std::vector<std::string>& v) {
  auto& a = impl_->doc.GetAllocator();
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& s : v)
    arr.PushBack(rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a), a);
  impl_->put(key, std::move(arr));
  return *this;
}
json_object& json_object::set(const char* key, const std::map<std::string, std::string>& v) {
  auto& a = impl_->doc.GetAllocator();
  rapidjson::Value obj(rapidjson::kObjectType);
  for (const auto& [k, s] : v)
    obj.AddMember(rapidjson::Value(k.data(), static_cast<rapidjson::SizeType>(k.size()), a),
                  rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a), a);
  impl_->put(key, std::move(obj));
  return *this;
}
json_object& json_object::set_null(const char* key) {
  impl_->put(key, rapidjson::Value(rapidjson::kNullType));
  return *this;
}
json_object& json_object::set_raw(const char* key, std::string_view json) {
  if (json_deeper_than(json, max_json_depth)) return *this;
  rapidjson::Document parsed(&impl_->doc.GetAllocator());
  parsed.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (parsed.HasParseError()) return *this;
  rapidjson::Value v;
  v.CopyFrom(parsed, impl_->doc.GetAllocator());
  impl_->put(key, std::move(v));
  return *this;
}
json_object& json_object::remove(const char* key) {
  impl_->doc.RemoveMember(key);
  return *this;
}
json_object& json_object::merge(const json_object& other) {
  for (auto& m : other.impl_->doc.GetObject()) {
    rapidjson::Value v;
    v.CopyFrom(m.value, impl_->doc.GetAllocator());
    impl_->put(m.name.GetString(), std::move(v));
  }
  return *this;
}

std::string json_object::dump() const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  impl_->doc.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace certctl::events
