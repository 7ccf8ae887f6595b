#pragma once
/// SCEP server profiles (RFC 8894) from the environment: CERTCTL_SCEP_PROFILES=corp,iot plus
/// CERTCTL_SCEP_PROFILE_<NAME>_* per profile (published at /scep/<name>), or the legacy single
/// profile CERTCTL_SCEP_ENABLED + CERTCTL_SCEP_* (published at /scep). Validated at start: a
/// bad value fails with a message naming its variable.

#include <cstdint>
#include <functional>
#include <string>

#include <vector>
#include "infra/duration.hpp"

#include "events/result.hpp"
#include "infra/config.hpp"

namespace certctl::infra {

struct scep_profile_config {
  std::string name;        ///< as listed in CERTCTL_SCEP_PROFILES ("" for the legacy profile)
  std::string path_id;     ///< lower-case name: /scep/<path_id>; "" = /scep
  std::string env_prefix;  ///< "CERTCTL_SCEP_PROFILE_CORP_" or "CERTCTL_SCEP_" (for messages)
  std::string issuer_id;   ///< _ISSUER_ID (required)
  std::string profile_id;  ///< _PROFILE_ID: certctl certificate profile ("" = none)
  std::string challenge_password;  ///< _CHALLENGE_PASSWORD ("" = no static challenge)
  std::string ra_cert_path;        ///< _RA_CERT_PATH; both empty: issued at start
  std::string ra_key_path;         ///< _RA_KEY_PATH
  /// _NEXT_CA_CERT_PATH: PEM chain of the CA that replaces the current one (rollover),
  /// served by GetNextCACert and advertised in GetCACaps; "" = no rollover pending.
  std::string next_ca_cert_path;
  bool mtls_enabled = false;               ///< _MTLS_ENABLED: also publish /scep-mtls/<path_id>
  std::string mtls_trust_bundle_path;      ///< _MTLS_CLIENT_CA_TRUST_BUNDLE_PATH
  bool intune_enabled = false;             ///< _INTUNE_ENABLED
  std::string intune_connector_cert_path;  ///< _INTUNE_CONNECTOR_CERT_PATH
  std::string intune_audience;             ///< _INTUNE_AUDIENCE ("" = not checked)
  std::int64_t intune_challenge_validity_s = 3600;  ///< _INTUNE_CHALLENGE_VALIDITY (60m)
  std::int64_t intune_clock_skew_s = 60;            ///< _INTUNE_CLOCK_SKEW_TOLERANCE (60s)
  int intune_rate_limit_24h = 3;                    ///< _INTUNE_PER_DEVICE_RATE_LIMIT_24H (0 = off)
  /// _ISSUANCE_WAIT_MS: how long a PKCSReq waits for the issuance before answering PENDING
  /// (the client then polls with GetCertInitial).
  std::int64_t issuance_wait_ms = 5000;
};

/// Reads the SCEP profiles (none when SCEP is not configured).
result<std::vector<scep_profile_config>, config_error> load_scep_config(
    const std::function<const char*(const char*)>& getenv_fn);

}  // namespace certctl::infra
