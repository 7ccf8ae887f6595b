#include "connectors/config_schema.hpp"

#include <algorithm>
#include <set>

namespace certctl::connectors {

std::string_view to_string(field_type t) {
  switch (t) {
    case field_type::string:
      return "a string";
    case field_type::integer:
      return "an integer";
    case field_type::boolean:
      return "a boolean";
    case field_type::string_array:
      return "an array of strings";
    case field_type::object:
      return "an object";
  }
  return "unknown";
}

const config_field* config_schema::find(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> config_schema::secret_fields() const {
  std::vector<std::string> out;
  for (const auto& f : fields)
    if (f.secret) out.push_back(f.name);
  return out;
}

namespace {

bool has_type(const events::json_object& c, const config_field& f) {
  const char* n = f.name.c_str();
  switch (f.type) {
    case field_type::string:
      return c.is_string(n);
    case field_type::integer:
      return c.is_int(n);
    case field_type::boolean:
      return c.is_bool(n);
    case field_type::string_array:
      return c.is_string_array(n);
    case field_type::object:
      return c.is_object(n);
  }
  return false;
}

config_violation bad(const std::string& field, std::string message) {
  return config_violation{field, "config field '" + field + "' " + std::move(message)};
}

}  // namespace

certctl::result<done, config_violation> validate_config(const config_schema& schema,
                                                        const events::json_object& config) {
  for (const auto& f : schema.fields) {
    const char* n = f.name.c_str();
    if (!config.has(n) || config.is_null(n)) {
      if (f.required) return bad(f.name, "is required (" + f.description + ")");
      continue;
    }
    if (!has_type(config, f)) return bad(f.name, "must be " + std::string(to_string(f.type)));
    if (f.required && f.type == field_type::string && config.str(n).empty())
      return bad(f.name, "must not be empty");
  }
  for (const auto& key : config.keys())
    if (schema.find(key) == nullptr) return bad(key, "is not known to this connector type");
  return done{};
}

certctl::result<done, std::string> check_schema(const config_schema& schema) {
  std::set<std::string> seen;
  for (const auto& f : schema.fields) {
    if (f.name.empty()) return std::string("a config field has no name");
    if (!seen.insert(f.name).second) return "config field '" + f.name + "' is declared twice";
    if (f.secret && f.type != field_type::string)
      return "config field '" + f.name + "' is a secret but not a string";
  }
  return done{};
}

}  // namespace certctl::connectors
