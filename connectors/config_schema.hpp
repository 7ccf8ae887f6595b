#pragma once
/// The configuration schema every connector registers (DESIGN §11): which fields its JSON
/// config may carry, their types, which are required and which are secrets. The API checks a
/// config against it before anything is recorded, and the sealing service (config_service.hpp)
/// uses the secret flags to seal and redact.
///
/// Unknown-field policy: a field the schema does not name is refused. A typo in an optional
/// field ("api_tokn") would otherwise be stored silently and the connector would run without
/// the setting the operator meant to give it; failing fast naming the field is the cheaper
/// surprise (the same choice as configuration validation at start, DESIGN §12).

#include <string>
#include <string_view>
#include <vector>

#include "events/json.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

enum class field_type { string, integer, boolean, string_array, object };

/// "a string", "an integer", ...: for messages.
std::string_view to_string(field_type t);

struct config_field {
  std::string name;
  field_type type = field_type::string;
  bool required = false;
  /// Credentials: stored sealed (AES-256-GCM under the master key), never shown by the API.
  /// Only string fields can be secrets.
  bool secret = false;
  std::string description;  ///< one line, shown in docs and error messages
};

struct config_schema {
  std::vector<config_field> fields;

  /// The field named `name`, or nullptr.
  const config_field* find(std::string_view name) const;
  /// Names of the secret fields.
  std::vector<std::string> secret_fields() const;
};

/// Why a config does not fit its schema; `field` names the offending field ("" when the
/// config as a whole is wrong), `message` is readable and names it too.
struct config_violation {
  std::string field;
  std::string message;
};

/// Checks `config` against `schema`: every required field present and not null (a required
/// string must not be empty), every present field of its declared type, no unknown field.
/// The first problem found is reported, fields in schema order, then unknown ones.
certctl::result<done, config_violation> validate_config(const config_schema& schema,
                                                        const events::json_object& config);

/// Checks a schema itself (names unique and non-empty, secrets only on strings); connectors
/// call it through the registry, so a wrong schema fails at start, not on first use.
certctl::result<done, std::string> check_schema(const config_schema& schema);

}  // namespace certctl::connectors
