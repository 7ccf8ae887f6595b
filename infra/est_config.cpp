#include "infra/est_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <set>

namespace certctl::infra {
namespace {

bool valid_path_id(const std::string& id) {
  if (id.empty() || id.front() == '-' || id.back() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item =
        trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

/// Reads one profile's settings under `prefix` ("CERTCTL_EST_PROFILE_CORP_" or "CERTCTL_EST_").
result<est_profile_config, est_config_error> read_profile(
    const std::function<const char*(const char*)>& getenv_fn, const std::string& prefix,
    est_profile_config p) {
  auto get = [&](const char* setting) -> std::string {
    const char* v = getenv_fn((prefix + setting).c_str());
    return v == nullptr ? std::string() : std::string(v);
  };
  auto name = [&](const char* setting) { return prefix + setting; };
  auto flag = [&](const char* setting, bool& out) -> std::optional<est_config_error> {
    const std::string v = get(setting);
    if (v.empty()) return std::nullopt;
    if (v == "true" || v == "1")
      out = true;
    else if (v == "false" || v == "0")
      out = false;
    else
      return est_config_error{name(setting) + "=" + v + " is not true or false"};
    return std::nullopt;
  };
  if (auto v = get("ISSUER_ID"); !v.empty()) p.issuer_id = v;
  p.profile_id = get("PROFILE_ID");
  p.enrollment_password = get("ENROLLMENT_PASSWORD");
  for (const auto& m : split_list(get("ALLOWED_AUTH_MODES"))) {
    if (m != "basic" && m != "mtls")
      return est_config_error{name("ALLOWED_AUTH_MODES") + ": '" + m +
                              "' is not an auth mode (basic, mtls)"};
    if (std::find(p.allowed_auth_modes.begin(), p.allowed_auth_modes.end(), m) ==
        p.allowed_auth_modes.end())
      p.allowed_auth_modes.push_back(m);
  }
  for (auto [setting, out] : {std::pair<const char*, bool*>{"MTLS_ENABLED", &p.mtls_enabled},
                              {"CHANNEL_BINDING_REQUIRED", &p.channel_binding_required},
                              {"SERVERKEYGEN_ENABLED", &p.serverkeygen_enabled},
                              {"SERVER_KEYGEN_ENABLED", &p.serverkeygen_enabled},
                              {"SERVERKEYGEN_PKCS8_ALLOWED", &p.serverkeygen_pkcs8_allowed}})
    if (auto e = flag(setting, *out)) return *e;
  const std::string bundle = get("MTLS_CLIENT_CA_TRUST_BUNDLE_PATH");
  const std::string alias = get("MTLS_TRUST_BUNDLE_PATH");
  if (!bundle.empty() && !alias.empty() && bundle != alias)
    return est_config_error{name("MTLS_CLIENT_CA_TRUST_BUNDLE_PATH") + " and " +
                            name("MTLS_TRUST_BUNDLE_PATH") + " name different files"};
  p.mtls_trust_bundle_path = bundle.empty() ? alias : bundle;
  auto number = [&](const char* setting, std::int64_t min, std::int64_t max,
                    std::int64_t& out) -> std::optional<est_config_error> {
    const std::string v = get(setting);
    if (v.empty()) return std::nullopt;
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (end == v.c_str() || *end != '\0' || n < min || n > max)
      return est_config_error{name(setting) + "=" + v + " is not an integer in " +
                              std::to_string(min) + ".." + std::to_string(max)};
    out = n;
    return std::nullopt;
  };
  std::int64_t rate = 0;
  if (auto e = number("RATE_LIMIT_PER_PRINCIPAL_24H", 0, 1000000, rate)) return *e;
  p.rate_limit_per_principal_24h = static_cast<int>(rate);
  if (auto e = number("MAX_BODY_BYTES", 1024, 1 << 20, p.max_body_bytes)) return *e;

  // Cross-checks (the reference's boot preflight): every requirement names its variable.
  const bool lists_basic = std::count(p.allowed_auth_modes.begin(), p.allowed_auth_modes.end(),
                                      std::string("basic")) > 0;
  const bool lists_mtls =
      std::count(p.allowed_auth_modes.begin(), p.allowed_auth_modes.end(), std::string("mtls")) > 0;
  if (lists_basic && p.enrollment_password.empty())
    return est_config_error{name("ALLOWED_AUTH_MODES") + " lists basic but " +
                            name("ENROLLMENT_PASSWORD") + " is not set"};
  if (lists_mtls && !p.mtls_enabled)
    return est_config_error{name("ALLOWED_AUTH_MODES") + " lists mtls but " + name("MTLS_ENABLED") +
                            " is not true"};
  if (p.mtls_enabled && p.mtls_trust_bundle_path.empty())
    return est_config_error{name("MTLS_ENABLED") + " is true but " +
                            name("MTLS_CLIENT_CA_TRUST_BUNDLE_PATH") + " is not set"};
  if (p.channel_binding_required && !p.mtls_enabled)
    return est_config_error{name("CHANNEL_BINDING_REQUIRED") + " needs " + name("MTLS_ENABLED") +
                            "=true (channel binding is checked on the mTLS route)"};
  if (p.serverkeygen_enabled && p.profile_id.empty())
    return est_config_error{name("SERVERKEYGEN_ENABLED") + " needs " + name("PROFILE_ID") +
                            " (the profile decides which key the server generates)"};
  return p;
}

}  // namespace

bool est_profile_config::basic_required() const {
  if (allowed_auth_modes.empty()) return !enrollment_password.empty();
  return std::count(allowed_auth_modes.begin(), allowed_auth_modes.end(), "basic") > 0;
}

bool est_profile_config::mtls_required() const {
  return std::count(allowed_auth_modes.begin(), allowed_auth_modes.end(), "mtls") > 0;
}

result<std::vector<est_profile_config>, est_config_error> load_est_profiles(
    const std::function<const char*(const char*)>& getenv_fn) {
  std::vector<est_profile_config> out;
  const char* list = getenv_fn("CERTCTL_EST_PROFILES");
  if (list == nullptr || *list == '\0') {
    const char* enabled = getenv_fn("CERTCTL_EST_ENABLED");
    const std::string e = enabled == nullptr ? "" : enabled;
    if (e.empty() || e == "false" || e == "0") return out;
    if (e != "true" && e != "1")
      return est_config_error{"CERTCTL_EST_ENABLED=" + e + " is not true or false"};
    auto legacy = read_profile(getenv_fn, "CERTCTL_EST_", est_profile_config{});
    if (!legacy) return legacy.error();
    out.push_back(std::move(legacy).value());
    return out;
  }
  std::set<std::string> seen;
  for (const auto& raw : split_list(list)) {
    std::string upper = raw, lower = raw;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!valid_path_id(lower))
      return est_config_error{"CERTCTL_EST_PROFILES: '" + raw +
                              "' is not a profile name ([a-z0-9-], no leading or trailing -)"};
    if (!seen.insert(lower).second)
      return est_config_error{"CERTCTL_EST_PROFILES names '" + raw + "' twice"};
    std::string env_name = upper;
    std::replace(env_name.begin(), env_name.end(), '-', '_');
    const std::string prefix = "CERTCTL_EST_PROFILE_" + env_name + "_";
    est_profile_config p;
    p.name = raw;
    p.path_id = lower;
    if (const char* v = getenv_fn((prefix + "ISSUER_ID").c_str()); v == nullptr || *v == '\0')
      return est_config_error{prefix + "ISSUER_ID is required for EST profile '" + raw + "'"};
    auto made = read_profile(getenv_fn, prefix, std::move(p));
    if (!made) return made.error();
    out.push_back(std::move(made).value());
  }
  if (out.empty()) return est_config_error{"CERTCTL_EST_PROFILES lists no profile"};
  return out;
}

}  // namespace certctl::infra
