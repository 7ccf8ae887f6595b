#include "actors/workflows/profile_policy.hpp"

namespace certctl::actors {

std::optional<profile_policy> policy_from_profile(const events::json_object& profile,
                                                  std::string* error) {
  profile_policy p;
  for (const auto& rule : profile.object_array("allowed_key_algorithms")) {
    const std::string alg = rule.str("algorithm");
    if (alg != "ECDSA" && alg != "RSA" && alg != "Ed25519") {
      if (error) *error = "profile allows unknown key algorithm '" + alg + "'";
      return std::nullopt;
    }
    p.allowed_keys.emplace_back(alg, static_cast<int>(rule.int64("min_size", 0)));
  }
  const std::int64_t ttl_s = profile.int64("max_ttl_seconds", 0);
  if (ttl_s > 0) p.max_ttl_us = ttl_s * 1000000;
  for (const auto& name : profile.str_array("allowed_ekus")) {
    auto eku = crypto::parse_ext_key_usage(name);
    if (!eku) {
      if (error) *error = "profile names unknown EKU '" + name + "'";
      return std::nullopt;
    }
    p.ekus.push_back(*eku);
  }
  return p;
}

crypto::key_type server_key_type(const profile_policy& p) {
  if (p.allowed_keys.empty()) return crypto::key_type::ecdsa_p256;
  for (const auto& [alg, min] : p.allowed_keys)
    if (alg == "ECDSA")
      return min > 256 ? crypto::key_type::ecdsa_p384 : crypto::key_type::ecdsa_p256;
  for (const auto& [alg, min] : p.allowed_keys)
    if (alg == "RSA")
      return min > 3072   ? crypto::key_type::rsa_4096
             : min > 2048 ? crypto::key_type::rsa_3072
                          : crypto::key_type::rsa_2048;
  return crypto::key_type::ed25519;
}

std::optional<std::string> check_csr_key(const profile_policy& p, const std::string& algorithm,
                                         int bits) {
  if (p.allowed_keys.empty()) return std::nullopt;
  for (const auto& [alg, min] : p.allowed_keys) {
    if (alg != algorithm) continue;
    if (bits >= min) return std::nullopt;
    return algorithm + " key of " + std::to_string(bits) +
           " bits is below the profile's minimum of " + std::to_string(min);
  }
  std::string allowed;
  for (const auto& [alg, min] : p.allowed_keys) allowed += (allowed.empty() ? "" : ", ") + alg;
  return "key algorithm " + algorithm + " is not allowed by the profile (allowed: " + allowed + ")";
}

}  // namespace certctl::actors
