#include "infra/scep_config.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace certctl::infra {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

bool valid_path_id(const std::string& id) {
  if (id.empty() || id.size() > 64 || id.front() == '-' || id.back() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

result<std::vector<scep_profile_config>, config_error> load_scep_config(
    const std::function<const char*(const char*)>& getenv_fn) {
  std::optional<config_error> err;
  auto get = [&](const std::string& name) -> std::string {
    const char* v = getenv_fn(name.c_str());
    return v == nullptr ? std::string() : std::string(v);
  };
  auto flag = [&](const std::string& name, bool& out) {
    const std::string v = get(name);
    if (v.empty()) return;
    if (v == "true" || v == "1")
      out = true;
    else if (v == "false" || v == "0")
      out = false;
    else if (!err)
      err = config_error{name + "=" + v + " is not true or false"};
  };
  auto duration = [&](const std::string& name, std::int64_t& out) {
    const std::string v = get(name);
    if (v.empty()) return;
    if (auto d = parse_duration_seconds(v))
      out = *d;
    else if (!err)
      err = config_error{name + "=" + v + " is not a duration (e.g. 90s, 60m, 2h)"};
  };
  auto integer = [&](const std::string& name, std::int64_t& out, std::int64_t lo, std::int64_t hi) {
    const std::string v = get(name);
    if (v.empty()) return;
    const bool digits = v.size() <= 12 && std::all_of(v.begin(), v.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    const std::int64_t n = digits ? std::stoll(v) : -1;
    if (!digits || n < lo || n > hi) {
      if (!err)
        err = config_error{name + "=" + v + " is not an integer between " + std::to_string(lo) +
                           " and " + std::to_string(hi)};
      return;
    }
    out = n;
  };
  auto read_profile = [&](scep_profile_config& p) {
    const std::string& x = p.env_prefix;
    p.issuer_id = get(x + "ISSUER_ID");
    p.profile_id = get(x + "PROFILE_ID");
    p.challenge_password = get(x + "CHALLENGE_PASSWORD");
    p.ra_cert_path = get(x + "RA_CERT_PATH");
    p.ra_key_path = get(x + "RA_KEY_PATH");
    p.next_ca_cert_path = get(x + "NEXT_CA_CERT_PATH");
    flag(x + "MTLS_ENABLED", p.mtls_enabled);
    p.mtls_trust_bundle_path = get(x + "MTLS_CLIENT_CA_TRUST_BUNDLE_PATH");
    flag(x + "INTUNE_ENABLED", p.intune_enabled);
    p.intune_connector_cert_path = get(x + "INTUNE_CONNECTOR_CERT_PATH");
    p.intune_audience = get(x + "INTUNE_AUDIENCE");
    duration(x + "INTUNE_CHALLENGE_VALIDITY", p.intune_challenge_validity_s);
    duration(x + "INTUNE_CLOCK_SKEW_TOLERANCE", p.intune_clock_skew_s);
    std::int64_t rate = p.intune_rate_limit_24h;
    integer(x + "INTUNE_PER_DEVICE_RATE_LIMIT_24H", rate, 0, 1000000);
    p.intune_rate_limit_24h = static_cast<int>(rate);
    integer(x + "ISSUANCE_WAIT_MS", p.issuance_wait_ms, 0, 60000);
    if (err) return;
    if (p.issuer_id.empty())
      err = config_error{x + "ISSUER_ID is required for the SCEP profile" +
                         (p.name.empty() ? std::string() : " " + p.name)};
    else if (p.ra_cert_path.empty() != p.ra_key_path.empty())
      err = config_error{x + "RA_CERT_PATH and " + x +
                         "RA_KEY_PATH must be set together (or both left unset: the server "
                         "then issues an RA certificate from the profile's issuer)"};
    else if (p.mtls_enabled && p.mtls_trust_bundle_path.empty())
      err = config_error{x + "MTLS_CLIENT_CA_TRUST_BUNDLE_PATH is required when " + x +
                         "MTLS_ENABLED=true"};
    else if (p.intune_enabled && p.intune_connector_cert_path.empty())
      err = config_error{x + "INTUNE_CONNECTOR_CERT_PATH is required when " + x +
                         "INTUNE_ENABLED=true"};
    else if (p.intune_enabled && p.intune_clock_skew_s >= p.intune_challenge_validity_s)
      err = config_error{x + "INTUNE_CLOCK_SKEW_TOLERANCE must be shorter than " + x +
                         "INTUNE_CHALLENGE_VALIDITY"};
    else if (p.challenge_password.empty() && !p.intune_enabled && !p.mtls_enabled)
      err = config_error{x +
                         "CHALLENGE_PASSWORD is empty and neither Intune nor mTLS is "
                         "enabled: the profile would enroll anyone"};
  };

  std::vector<scep_profile_config> out;
  const std::string list = get("CERTCTL_SCEP_PROFILES");
  if (!list.empty()) {
    std::set<std::string> seen;
    size_t start = 0;
    while (start <= list.size()) {
      const size_t comma = std::min(list.find(',', start), list.size());
      const std::string name = trim(list.substr(start, comma - start));
      start = comma + 1;
      if (name.empty()) continue;
      scep_profile_config p;
      p.name = name;
      p.path_id = name;
      std::transform(p.path_id.begin(), p.path_id.end(), p.path_id.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string upper = name;
      std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) {
        return c == '-' ? '_' : static_cast<char>(std::toupper(c));
      });
      p.env_prefix = "CERTCTL_SCEP_PROFILE_" + upper + "_";
      if (!valid_path_id(p.path_id))
        return config_error{"CERTCTL_SCEP_PROFILES: profile name '" + name +
                            "' must be letters, digits and inner hyphens (it becomes the path "
                            "/scep/<name>)"};
      if (!seen.insert(p.path_id).second)
        return config_error{"CERTCTL_SCEP_PROFILES: profile '" + name + "' is listed twice"};
      read_profile(p);
      if (err) return *err;
      out.push_back(std::move(p));
    }
    if (out.empty()) return config_error{"CERTCTL_SCEP_PROFILES lists no profile"};
    return out;
  }
  bool enabled = false;
  flag("CERTCTL_SCEP_ENABLED", enabled);
  if (err) return *err;
  if (!enabled) return out;
  scep_profile_config legacy;
  legacy.env_prefix = "CERTCTL_SCEP_";
  read_profile(legacy);
  if (err) return *err;
  out.push_back(std::move(legacy));
  return out;
}

}  // namespace certctl::infra
