#include "actors/workflows/profile_policy.hpp"

#include <algorithm>
#include <cctype>

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
  p.san_patterns = profile.str_array("required_san_patterns");
  p.spiffe_uri_pattern = profile.str("spiffe_uri_pattern");
  p.must_staple = profile.boolean("must_staple");
  return p;
}

bool glob_match(const std::string& pattern, const std::string& text, char separator,
                bool fold_case) {
  auto same = [fold_case](char a, char b) {
    if (!fold_case) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  };
  // Iterative matching with one backtrack point per star; a star never crosses `separator`.
  size_t pi = 0, ti = 0, star = std::string::npos, resume = 0;
  while (ti < text.size()) {
    if (pi < pattern.size() && pattern[pi] == '*') {
      star = pi++;
      resume = ti;
    } else if (pi < pattern.size() && same(pattern[pi], text[ti])) {
      ++pi;
      ++ti;
    } else if (star != std::string::npos && text[resume] != separator) {
      pi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (pi < pattern.size() && pattern[pi] == '*') ++pi;
  return pi == pattern.size();
}

std::optional<std::string> check_names(const profile_policy& p, const std::string& common_name,
                                       const crypto::subject_alt_names& sans) {
  if (!p.san_patterns.empty()) {
    std::vector<std::string> names = sans.dns;
    if (!common_name.empty() && common_name.find('.') != std::string::npos &&
        std::find(names.begin(), names.end(), common_name) == names.end())
      names.push_back(common_name);
    for (const auto& name : names) {
      const bool ok =
          std::any_of(p.san_patterns.begin(), p.san_patterns.end(),
                      [&](const std::string& pat) { return glob_match(pat, name, '.', true); });
      if (!ok) return "name " + name + " matches none of the profile's SAN patterns";
    }
  }
  if (!p.spiffe_uri_pattern.empty())
    for (const auto& uri : sans.uri)
      if (uri.rfind("spiffe://", 0) != 0 || !glob_match(p.spiffe_uri_pattern, uri, '/', false))
        return "URI " + uri + " does not match the profile's SPIFFE ID pattern " +
               p.spiffe_uri_pattern;
  return std::nullopt;
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
