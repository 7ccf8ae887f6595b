#pragma once
/// The Vault PKI issuer (type "VaultPKI"): HashiCorp Vault's PKI secrets engine through its
/// HTTP API.
///
///   issue:     POST /v1/{mount}/sign/{role}  {csr, common_name, alt_names, ip_sans, ttl}
///   revoke:    POST /v1/{mount}/revoke       {serial_number: "xx:xx:..."}
///   self test: GET /v1/sys/health, GET /v1/auth/token/lookup-self, GET /v1/{mount}/cert/ca
///
/// Authentication is a token (X-Vault-Token) or an AppRole login, kept alive by
/// vault_token.hpp. Vault's error bodies ({"errors":[...]}) are mapped: 400 (role
/// constraints) -> policy_violation, 403 (permission denied) -> unavailable after one AppRole
/// re-login, 503 (sealed) and other failures -> unavailable, each with Vault's own words.

#include <memory>
#include <string>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::vault {

config_schema vault_schema();

/// The connector built from a stored config (secrets already opened); exposed for tests.
certctl::result<std::shared_ptr<issuer>, issuer_error> make_vault_issuer(
    const connector_settings& settings, const builtin_context& context);

/// One renew-self with the issuer's token now (tests); unsupported for other issuer types.
certctl::result<done, issuer_error> renew_token_now(issuer& vault_issuer);

}  // namespace certctl::connectors::vault

namespace certctl::connectors {
/// Registers type "VaultPKI" (builtin_connectors.def).
certctl::result<done, std::string> register_vault_connector(connector_registry& registry,
                                                            const builtin_context& context);
}  // namespace certctl::connectors
