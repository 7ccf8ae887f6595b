#pragma once
/// What a certificate profile allows, in the terms issuance needs: which key algorithms and
/// sizes a CSR may carry, which key the server generates itself, the MaxTTL cap, the EKUs,
/// and which names it may certify (SAN patterns, the SPIFFE ID pattern).

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
  /// required_san_patterns: every DNS name (CN included) must match one. `*` stands for any
  /// run of characters within one label ("*.corp.example.com", "web-*.example.com").
  std::vector<std::string> san_patterns;
  /// spiffe_uri_pattern: every URI SAN must be a SPIFFE ID matching it; `*` stands for any run
  /// of characters within one path segment ("spiffe://corp.example/ns/*/sa/*").
  std::string spiffe_uri_pattern;
  bool must_staple = false;  ///< must_staple: RFC 7633 status_request in issued certificates
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

/// Why the names are not acceptable under the profile (the first offender named); nullopt
/// when they are.
std::optional<std::string> check_names(const profile_policy& p, const std::string& common_name,
                                       const crypto::subject_alt_names& sans);

/// Glob match where `*` matches any run of characters other than `separator`; case-sensitive
/// unless `fold_case` (DNS names).
bool glob_match(const std::string& pattern, const std::string& text, char separator,
                bool fold_case);

}  // namespace certctl::actors
