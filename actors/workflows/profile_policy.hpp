#pragma once
/// What a certificate profile allows, in the terms issuance needs: which key algorithms and
/// sizes a CSR may carry, which key the server generates itself, the MaxTTL cap, and the EKUs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/json.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::actors {

struct profile_policy {
  /// Minimum size per allowed algorithm ("ECDSA" -> 256, "RSA" -> 2048, "Ed25519" -> 0).
  std::vector<std::pair<std::string, int>> allowed_keys;
  std::int64_t max_ttl_us = 0;  ///< 0: the issuer's default cap
  std::vector<crypto::ext_key_usage> ekus;
};

/// Reads a CertificateProfile document (the API's shape); an error names the bad field.
std::optional<profile_policy> policy_from_profile(const events::json_object& profile,
                                                  std::string* error);

/// The key the server generates for this profile: the smallest allowed ECDSA curve, else the
/// smallest allowed RSA size, else Ed25519.
crypto::key_type server_key_type(const profile_policy& p);

/// Why a CSR key is not acceptable under the profile; nullopt when it is.
std::optional<std::string> check_csr_key(const profile_policy& p, const std::string& algorithm,
                                         int bits);

}  // namespace certctl::actors
