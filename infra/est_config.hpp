#pragma once
/// EST server (RFC 7030) profiles from the environment, validated at start: a bad value fails
/// with a message that names the variable. Two shapes (docs/est-scep.md):
///
///   CERTCTL_EST_PROFILES=corp,iot     one profile per name at /.well-known/est/<path id>/,
///                                     settings CERTCTL_EST_PROFILE_<NAME>_<SETTING>
///   CERTCTL_EST_ENABLED=true          (without CERTCTL_EST_PROFILES) one legacy profile at
///                                     /.well-known/est/, settings CERTCTL_EST_<SETTING>
///
/// Settings: ISSUER_ID, PROFILE_ID, ALLOWED_AUTH_MODES, ENROLLMENT_PASSWORD, MTLS_ENABLED,
/// MTLS_CLIENT_CA_TRUST_BUNDLE_PATH (alias MTLS_TRUST_BUNDLE_PATH), CHANNEL_BINDING_REQUIRED,
/// RATE_LIMIT_PER_PRINCIPAL_24H, SERVERKEYGEN_ENABLED (alias SERVER_KEYGEN_ENABLED),
/// SERVERKEYGEN_PKCS8_ALLOWED, MAX_BODY_BYTES.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::infra {

struct est_profile_config {
  std::string name;     ///< as listed in CERTCTL_EST_PROFILES ("" for the legacy profile)
  std::string path_id;  ///< the <path id> URL segment: the name in lower case ("" = legacy root)
  std::string issuer_id = "iss-local";
  std::string profile_id;  ///< certctl certificate profile ("" = none)
  /// "basic" and/or "mtls": the ways a client must authenticate. Empty: an enrollment
  /// password, when set, is required on the standard route; otherwise it is anonymous.
  std::vector<std::string> allowed_auth_modes;
  std::string enrollment_password;  ///< HTTP Basic password (any user name)
  bool mtls_enabled = false;        ///< publish /.well-known/est-mtls/<path id>/
  std::string mtls_trust_bundle_path;
  bool channel_binding_required = false;  ///< RFC 9266 tls-exporter in the CSR (mTLS route)
  int rate_limit_per_principal_24h = 0;   ///< enrollments per (CN, source IP) per 24 h; 0 = off
  bool serverkeygen_enabled = false;
  /// serverkeygen without a TLS client certificate to encrypt to: true returns the key as
  /// PKCS#8 (protected by TLS only, RFC 7030 §4.4.2); false encrypts it to the CSR's key.
  bool serverkeygen_pkcs8_allowed = false;
  std::int64_t max_body_bytes = 64 * 1024;  ///< request bodies above this get 413

  bool basic_required() const;
  bool mtls_required() const;
};

struct est_config_error {
  std::string message;
};

/// Reads the EST profiles through `getenv` (injected for tests). No EST variables: none.
result<std::vector<est_profile_config>, est_config_error> load_est_profiles(
    const std::function<const char*(const char*)>& getenv_fn);

}  // namespace certctl::infra
