#pragma once
/// The step-ca issuer (type "StepCA"): Smallstep's step-ca through its native API with a JWK
/// provisioner.
///
///   issue:     POST /1.0/sign   {csr, ott, notAfter}    -> 201 {crt, ca, certChain}
///   revoke:    POST /1.0/revoke {serial (decimal), ott, reasonCode, reason, passive: true}
///   self test: GET /health, GET /roots (the pinned root must be among them)
///
/// The one-time token (OTT) is a JWT signed with the provisioner's private key: header
/// {alg, kid, typ: JWT}, claims {iss: provisioner name, aud: <ca_url>/1.0/sign (or /revoke),
/// sub: CN (or the serial), sans, sha: root fingerprint, iat, nbf, exp: +5 min, jti}. The key
/// is the provisioner's JWK, plain or encrypted as step-ca stores it (JWE, PBES2 with the
/// provisioner password), or a PEM key. TLS to the CA trusts root_cert_path only, and that
/// root's SHA-256 fingerprint must equal root_fingerprint when given (pinning, like
/// `step ca bootstrap --fingerprint`).

#include <memory>
#include <string>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::stepca {

config_schema stepca_schema();

certctl::result<std::shared_ptr<issuer>, issuer_error> make_stepca_issuer(
    const connector_settings& settings, const builtin_context& context);

/// "0A1B" -> "2587": step-ca names serials in decimal.
std::string hex_to_decimal(const std::string& hex);

}  // namespace certctl::connectors::stepca

namespace certctl::connectors {
/// Registers type "StepCA" (builtin_connectors.def).
certctl::result<done, std::string> register_stepca_connector(connector_registry& registry,
                                                             const builtin_context& context);
}  // namespace certctl::connectors
