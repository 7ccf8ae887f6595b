#include "actors/domain/rules.hpp"

#include <ostream>

namespace certctl::domain {

const char* to_string(domain_errc c) {
  switch (c) {
    case domain_errc::invalid:
      return "invalid";
    case domain_errc::not_found:
      return "not_found";
    case domain_errc::conflict:
      return "conflict";
    case domain_errc::forbidden:
      return "forbidden";
    case domain_errc::internal:
      return "internal";
    case domain_errc::unavailable:
      return "unavailable";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, domain_errc c) {
  return os << to_string(c);
}

std::optional<domain_error> check_fields(const events::json_object& body,
                                         std::initializer_list<std::pair<const char*, char>> spec) {
  for (const auto& [field, kind] : spec) {
    if (!body.has(field) || body.is_null(field)) continue;
    bool ok = false;
    const char* what = "";
    switch (kind) {
      case 's':
        ok = body.is_string(field), what = "a string";
        break;
      case 'i':
        ok = body.is_int(field), what = "an integer";
        break;
      case 'b':
        ok = body.is_bool(field), what = "a boolean";
        break;
      case 'a':
        ok = body.is_string_array(field), what = "an array of strings";
        break;
      case 'o':
        ok = body.is_object(field), what = "an object";
        break;
      default:
        break;
    }
    if (!ok) return invalid(std::string("field '") + field + "' must be " + what);
  }
  return std::nullopt;
}

std::optional<domain_error> require_strings(const events::json_object& body,
                                            std::initializer_list<const char*> fields) {
  for (const char* f : fields) {
    if (!body.is_string(f) || body.str(f).empty())
      return invalid(std::string("field '") + f + "' is required and must be a non-empty string");
  }
  return std::nullopt;
}

bool is_valid_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace certctl::domain
