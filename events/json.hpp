#pragma once
/// A small owning JSON object over RapidJSON for payloads and command bodies, so domain code
/// reads `j.str("common_name")` instead of RapidJSON ceremony. Not for hot parsing paths.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certctl::events {

class json_object {
 public:
  json_object();
  ~json_object();
  json_object(const json_object& other);
  json_object& operator=(const json_object& other);
  json_object(json_object&&) noexcept;
  json_object& operator=(json_object&&) noexcept;

  /// Parses a JSON object iteratively, at most max_json_depth deep (json_depth.hpp); else nullopt.
  static std::optional<json_object> parse(std::string_view text, std::string* error = nullptr);

  bool has(const char* key) const;
  bool is_null(const char* key) const;
  bool is_string(const char* key) const;
  bool is_int(const char* key) const;
  bool is_bool(const char* key) const;
  bool is_array(const char* key) const;
  /// An array whose every element is a string.
  bool is_string_array(const char* key) const;
  bool is_object(const char* key) const;

  std::string str(const char* key, const std::string& fallback = "") const;
  std::int64_t int64(const char* key, std::int64_t fallback = 0) const;
  bool boolean(const char* key, bool fallback = false) const;
  /// Array of strings (non-string elements are skipped).
  std::vector<std::string> str_array(const char* key) const;
  /// Array of objects (non-object elements are skipped).
  std::vector<json_object> object_array(const char* key) const;
  /// Object of string values (non-string values are skipped).
  std::map<std::string, std::string> str_map(const char* key) const;
  /// A nested value re-serialised ("null" when absent).
  std::string raw(const char* key) const;
  std::vector<std::string> keys() const;

  json_object& set(const char* key, const std::string& v);
  json_object& set(const char* key, const char* v) { return set(key, std::string(v)); }
  json_object& set(const char* key, std::int64_t v);
  json_object& set(const char* key, int v) { return set(key, static_cast<std::int64_t>(v)); }
  json_object& set(const char* key, bool v);
  json_object& set(const char* key, const std::vector<std::string>& v);
  json_object& set(const char* key, const std::map<std::string, std::string>& v);
  json_object& set_null(const char* key);
  /// Sets a value from JSON text (object, array, ...); ignored when the text is invalid.
  json_object& set_raw(const char* key, std::string_view json);
  json_object& remove(const char* key);
  /// Copies every member of `other` over this object's.
  json_object& merge(const json_object& other);

  std::string dump() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::events
