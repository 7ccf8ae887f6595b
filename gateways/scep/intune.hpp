#pragma once
/// Microsoft Intune dynamic SCEP challenges: the Intune Certificate Connector puts a signed
/// token in the CSR's challengePassword; this validator checks it natively (no NDES):
///
///   parse (compact JWS) -> signature against the trust pool (RS256 / ES256 only, "none" and
///   every other alg refused) -> version -> iat/nbf/exp with ±skew, capped by the challenge
///   validity -> audience -> CSR <-> claim binding -> replay cache -> per-device rate limit
///
/// Claims: iss, sub (the device), aud (string or array), iat, exp, optional nbf, jti (replay
/// key; the token's SHA-256 when absent), ver ("1" when present), optional device_name (must
/// equal the CSR's CN) and dns_names (must cover the CSR's DNS names).
/// The trust pool is a PEM bundle of the connector's signing certificates, reloaded on SIGHUP
/// and by POST /api/v1/admin/scep/intune/reload-trust; a bad file keeps the old pool.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::gateways::scep {

struct intune_settings {
  std::string trust_path;
  std::string audience;  ///< "" = not checked
  std::int64_t challenge_validity_s = 3600;
  std::int64_t clock_skew_s = 60;
  int rate_limit_24h = 3;  ///< per (sub, iss); 0 = off
};

/// One outcome per failure class; each has a counter in the stats.
enum class intune_outcome {
  success,
  signature_invalid,
  claim_mismatch,
  expired,
  not_yet_valid,
  wrong_audience,
  replay,
  rate_limited,
  malformed,
  unknown_version,
};
const char* to_string(intune_outcome o);

/// Largest token accepted in a challengePassword.
inline constexpr size_t max_intune_token = 16 * 1024;

/// True when a challenge looks like a token (three base64url parts) rather than a password.
bool looks_like_intune_token(const std::string& challenge);

class intune_validator {
 public:
  /// Loads the trust pool; fails when the file is missing, holds no certificate, or every
  /// certificate in it has expired.
  static certctl::result<std::unique_ptr<intune_validator>, std::string> make(
      intune_settings settings, std::int64_t now_unix);

  /// Re-reads the trust file; on failure the old pool stays and the error is returned.
  certctl::result<std::size_t, std::string> reload(std::int64_t now_unix);

  /// Checks a token for a CSR asking for `csr_cn` and `csr_dns`. `why` gets a readable reason
  /// (for the log; clients only see failInfo).
  intune_outcome check(const std::string& token, const std::string& csr_cn,
                       const std::vector<std::string>& csr_dns, std::int64_t now_unix,
                       std::string& why);

  /// JSON object: enabled, audience, trust anchors (subject, not_after), counters, replay cache
  /// size, rate limit.
  std::string stats_json(std::int64_t now_unix) const;

  struct anchor {
    std::string subject;
    std::int64_t not_after = 0;
    std::string spki_der;  ///< SubjectPublicKeyInfo DER as bytes
  };

 private:
  explicit intune_validator(intune_settings settings) : settings_(std::move(settings)) {}
  intune_settings settings_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<anchor>> pool_;
  std::int64_t reloaded_at_ = 0;
  std::map<std::string, std::int64_t> seen_;  ///< replay key -> forget after (unix)
  std::map<std::string, std::deque<std::int64_t>> per_device_;
  std::map<intune_outcome, std::uint64_t> counters_;
};

}  // namespace certctl::gateways::scep
