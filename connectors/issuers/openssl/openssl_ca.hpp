#pragma once
/// The OpenSSL / custom CA issuer (type "OpenSSL"): an operator's CA driven through scripts,
/// typically wrapping `openssl ca`. Each script runs as an argv vector (never through a
/// shell), with a minimal environment, a timeout and output caps (script_runner.hpp), after
/// its path passed the threat-model checks (check_script_path).
///
///   sign:    <sign_script>                      CSR PEM on stdin -> certificate PEM (+ chain)
///   revoke:  <revoke_script> <SERIAL> <reason>  hex serial, RFC 5280 reason name
///   crl:     <crl_script>                       -> CRL, DER or PEM, on stdout
///
/// Environment of every script: PATH, LC_ALL=C, CERTCTL_OPERATION (sign|revoke|crl),
/// CERTCTL_ISSUER_ID, and for sign CERTCTL_COMMON_NAME, CERTCTL_SANS (comma-separated),
/// CERTCTL_VALIDITY_DAYS. Nothing else of the server's environment is passed (the master key
/// and connector secrets of other issuers live there).

#include <memory>
#include <string>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::openssl_ca {

struct openssl_ca_config {
  std::string sign_script;    ///< required
  std::string revoke_script;  ///< optional: without it revoke() is unsupported
  std::string crl_script;     ///< optional: self_test runs it when set
  std::string ca_chain_path;  ///< optional PEM, issuing CA first: chain and ca_chain_pem()
  int timeout_seconds = 30;
  int validity_days = 90;  ///< CERTCTL_VALIDITY_DAYS when the request names no TTL
};

/// Checks the scripts (threat model) and reads the chain file; invalid_request naming the field.
certctl::result<std::shared_ptr<issuer>, issuer_error> open_openssl_ca(
    const std::string& id, const openssl_ca_config& config);

config_schema openssl_ca_schema();

}  // namespace certctl::connectors::openssl_ca

namespace certctl::connectors {
/// Registers type "OpenSSL" (builtin_connectors.def).
certctl::result<done, std::string> register_openssl_ca_connector(connector_registry& registry,
                                                                 const builtin_context& context);
}  // namespace certctl::connectors
