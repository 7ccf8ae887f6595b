#include "tools/agent/options.hpp"

#include <cctype>
#include <cstdlib>
#include <map>

#include "infra/net/ip_address.hpp"

namespace certctl::agent {
namespace {

struct flag_spec {
  const char* flag;
  const char* env;
  const char* help;
};

const flag_spec flags[] = {
    {"--server", "CERTCTL_SERVER_URL", "server URL, https only (required)"},
    {"--api-key", "CERTCTL_API_KEY", "API key with the agent role (required)"},
    {"--agent-id", "CERTCTL_AGENT_ID", "this agent's id, as registered (required)"},
    {"--name", "CERTCTL_AGENT_NAME", "a label for logs (default: the agent id)"},
    {"--key-dir", "CERTCTL_KEY_DIR", "private keys, created 0700 (/var/lib/certctl-agent/keys)"},
    {"--discovery-dirs", "CERTCTL_DISCOVERY_DIRS", "comma-separated directories to scan"},
    {"--ca-bundle", "CERTCTL_CA_BUNDLE", "PEM file of CAs trusted for the server"},
    {"--outbound-allow-cidrs", "CERTCTL_OUTBOUND_ALLOW_CIDRS",
     "non-public ranges targets may connect to (none)"},
    {"--heartbeat-interval", "CERTCTL_HEARTBEAT_INTERVAL", "between heartbeats (60s)"},
    {"--poll-interval", "CERTCTL_POLL_INTERVAL", "between work polls (30s)"},
    {"--discovery-interval", "CERTCTL_DISCOVERY_INTERVAL", "between discovery scans (6h)"},
    {"--max-backoff", "CERTCTL_MAX_BACKOFF", "longest wait while the server fails (5m)"},
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      const auto b = cur.find_first_not_of(" \t");
      const auto e = cur.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

}  // namespace

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const long long n = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  long long ms = 0;
  if (unit == "ms")
    ms = n;
  else if (unit.empty() || unit == "s")
    ms = n * 1000;
  else if (unit == "m")
    ms = n * 60 * 1000;
  else if (unit == "h")
    ms = n * 3600 * 1000;
  else
    return std::nullopt;
  if (ms <= 0) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

std::string usage() {
  std::string out =
      "usage: certctl-agent [flags]\n"
      "Pulls work from a certctl server: generates keys locally and submits CSRs, deploys\n"
      "certificates to its targets, reports discovered certificates. Every flag falls back to\n"
      "the environment variable shown.\n\n";
  for (const auto& f : flags) {
    std::string left = std::string("  ") + f.flag + " (" + f.env + ")";
    if (left.size() < 46) left.resize(46, ' ');
    out += left + " " + f.help + "\n";
  }
  return out;
}

certctl::result<parsed_options, std::string> parse_options(const std::vector<std::string>& args,
                                                           const env_lookup& env) {
  std::map<std::string, std::string> given;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") return parsed_options{{}, true};
    std::string value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    bool known = false;
    for (const auto& f : flags) known = known || a == f.flag;
    if (!known) return std::string("unknown argument '" + a + "' (see --help)");
    if (!has_value) {
      if (i + 1 >= args.size()) return std::string("flag " + a + " needs a value");
      value = args[++i];
    }
    given[a] = value;
  }
  auto get = [&](const flag_spec& f) -> std::optional<std::string> {
    if (auto it = given.find(f.flag); it != given.end()) return it->second;
    return env(f.env);
  };
  parsed_options out;
  agent_options& o = out.options;
  for (const auto& f : flags) {
    auto v = get(f);
    if (!v) continue;
    const std::string name = f.flag, where = std::string(f.flag) + " / " + f.env;
    if (name == "--server") o.server_url = *v;
    if (name == "--api-key") o.api_key = *v;
    if (name == "--agent-id") o.agent_id = *v;
    if (name == "--name") o.name = *v;
    if (name == "--key-dir") o.key_dir = *v;
    if (name == "--discovery-dirs") o.discovery_dirs = split_list(*v);
    if (name == "--ca-bundle") o.ca_bundle = *v;
    if (name == "--outbound-allow-cidrs") {
      o.outbound_allow_cidrs = split_list(*v);
      if (auto ok = net::parse_cidr_list(*v); !ok)
        return std::string(where + ": " + ok.error().message);
    }
    std::chrono::milliseconds* slot = nullptr;
    if (name == "--heartbeat-interval") slot = &o.heartbeat_interval;
    if (name == "--poll-interval") slot = &o.poll_interval;
    if (name == "--discovery-interval") slot = &o.discovery_interval;
    if (name == "--max-backoff") slot = &o.max_backoff;
    if (slot != nullptr) {
      auto d = parse_duration(*v);
      if (!d) return std::string(where + ": '" + *v + "' is not a duration like 30s, 5m, 500ms");
      *slot = *d;
    }
  }
  if (o.server_url.empty()) return std::string("--server / CERTCTL_SERVER_URL is required");
  if (o.server_url.rfind("https://", 0) != 0)
    return std::string(
        "--server / CERTCTL_SERVER_URL must be an https:// URL: the API key and "
        "certificates must not cross the network in clear");
  if (o.api_key.empty()) return std::string("--api-key / CERTCTL_API_KEY is required");
  if (o.agent_id.empty()) return std::string("--agent-id / CERTCTL_AGENT_ID is required");
  for (char c : o.agent_id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return std::string("--agent-id / CERTCTL_AGENT_ID: '" + o.agent_id +
                         "' may hold only letters, digits, '-', '_' and '.'");
  if (o.key_dir.empty()) return std::string("--key-dir / CERTCTL_KEY_DIR must not be empty");
  if (o.name.empty()) o.name = o.agent_id;
  return out;
}

}  // namespace certctl::agent
