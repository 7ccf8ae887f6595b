#include "domain/rules.hpp"

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

result<decision, domain_error> decide_crl_publication(const events::json_object& b,
                                                      std::int64_t last_crl_number,
                                                      const std::string& event_type) {
  if (!b.is_int("crl_number") || !b.is_string("this_update") || !b.is_string("next_update") ||
      !b.is_int("revoked_count"))
    return invalid("publish_crl needs crl_number, this_update, next_update, revoked_count");
  const std::int64_t n = b.int64("crl_number");
  if (n <= last_crl_number)
    return conflict("CRL number " + std::to_string(n) + " is not above the last published " +
                    std::to_string(last_crl_number));
  events::json_object p;
  p.set("crl_number", n)
      .set("this_update", b.str("this_update"))
      .set("next_update", b.str("next_update"))
      .set("revoked_count", b.int64("revoked_count"));
  return decision{{event_type, p}};
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

std::string affine_id(const std::string& base, const std::string& root_stream) {
  std::string id = base + "__" + root_stream;
  return is_valid_id(id) ? id : base;
}

std::string_view affinity_key(std::string_view stream_id) {
  const auto at = stream_id.rfind("__");
  if (at == std::string_view::npos || at + 2 >= stream_id.size()) return stream_id;
  return stream_id.substr(at + 2);
}

}  // namespace certctl::domain
