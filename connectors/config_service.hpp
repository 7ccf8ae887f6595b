#pragma once
/// The edge between the API and connector configs: validation against the registered schema,
/// sealing of secret fields before anything is recorded, redaction of everything shown, and
/// building a connector from a stored config. Gateways call it; the domain never sees a clear
/// secret, so none can enter an event (DESIGN §3).
///
/// Stored form of a secret: "sealed:v1:" + base64url(nonce || ciphertext || tag), AES-256-GCM
/// under the server's master key, with associated data "<kind>/<entity id>/<field>" so a
/// sealed value copied into another entity or field does not open. Shown form: "********"
/// (redacted_value). On update, a secret sent back as "********" (what a GET returned) keeps
/// its stored value, so clients can round-trip a config without knowing its secrets.

#include <memory>
#include <string>
#include <string_view>

#include "connectors/config_schema.hpp"
#include "connectors/registry.hpp"
#include "events/json.hpp"
#include "events/result.hpp"
#include "infra/crypto/aead.hpp"

namespace certctl::connectors {

inline constexpr std::string_view redacted_value = "********";
inline constexpr std::string_view sealed_prefix = "sealed:v1:";

class config_service {
 public:
  /// `registry` must outlive the service.
  config_service(const connector_registry& registry, const crypto::aead_key& master_key);

  /// Create/update: `type` must have a registered connector of `kind` (else the violation
  /// names field "type": "no connector for issuer type ACME on this server"), `config` must fit
  /// its schema. Returns the config to store, secrets sealed. `previous` is the stored config
  /// on update (nullptr on create): a secret given as "********", or as its exact stored sealed
  /// value, keeps that value; any other sealed-looking value is refused (secrets are given in
  /// clear, over TLS, and only this server seals).
  certctl::result<events::json_object, config_violation> prepare(
      connector_kind kind, const std::string& type, const std::string& id,
      const events::json_object& config, const events::json_object* previous = nullptr) const;

  /// Stored -> usable: checks the schema again and opens the sealed secrets.
  certctl::result<events::json_object, config_violation> open(
      connector_kind kind, const std::string& type, const std::string& id,
      const events::json_object& stored) const;

  /// Stored (or clear) -> shown: the schema's secret fields, and any sealed value whatever the
  /// type (a connector no longer registered), become "********".
  events::json_object redact(connector_kind kind, const std::string& type,
                             const events::json_object& config) const;

  /// The issuer an entity {id, type, stored config} stands for: schema, secrets, factory. A
  /// type without a registered connector is invalid_request, never another issuer instead.
  certctl::result<std::shared_ptr<issuer>, issuer_error> make_issuer(
      const std::string& id, const std::string& type, const events::json_object& stored) const;

  const connector_registry& registry() const { return registry_; }

 private:
  const connector_registry& registry_;
  crypto::aead_key key_;
};

/// "no connector for issuer type ACME on this server".
std::string no_connector_message(connector_kind kind, const std::string& type);

/// Replaces every sealed string in a JSON text with "********", whatever its place (pages of
/// read models, whose schema the caller does not know). Sealed values are base64url, so they
/// never contain a quote or a backslash and end at the next quote.
std::string redact_sealed_values(std::string_view json_text);

}  // namespace certctl::connectors
