#pragma once
/// certctl-agent's settings: command-line flags, each with an environment variable as its
/// fallback (flags win), validated before the agent talks to anyone. Names follow the
/// reference (CERTCTL_SERVER_URL, CERTCTL_API_KEY, CERTCTL_AGENT_ID, CERTCTL_KEY_DIR,
/// CERTCTL_DISCOVERY_DIRS, ...); see tools/agent/README.md for the table.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::agent {

struct agent_options {
  std::string server_url;  ///< https://host[:port][/base]; plain http is refused
  std::string api_key;
  std::string agent_id;
  std::string name;  ///< a label for logs; the agent is registered by the operator
  std::string key_dir = "/var/lib/certctl-agent/keys";
  std::vector<std::string> discovery_dirs;
  std::string ca_bundle;  ///< PEM file of CAs trusted for the server; "" = system store
  /// Non-public ranges targets may connect to (their post-deploy TLS check), as the server's
  /// CERTCTL_OUTBOUND_ALLOW_CIDRS; validated by parse_options.
  std::vector<std::string> outbound_allow_cidrs;
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(60)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds discovery_interval{std::chrono::hours(6)};
  /// Longest wait between attempts while the server fails (the backoff doubles up to it).
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
};

/// Reads an environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment.
env_lookup process_env();

/// What parse_options decided: run with these options, or print help and exit 0.
struct parsed_options {
  agent_options options;
  bool help = false;
};

/// Flags: --server, --api-key, --agent-id, --name, --key-dir, --discovery-dirs (comma list),
/// --ca-bundle, --heartbeat-interval, --poll-interval, --discovery-interval, --max-backoff
/// (durations: 500ms, 30s, 5m, 6h), --help. "--flag value" and "--flag=value" both work.
/// The error names the flag or variable at fault.
certctl::result<parsed_options, std::string> parse_options(const std::vector<std::string>& args,
                                                           const env_lookup& env);

/// "500ms", "30s", "5m", "6h" (a bare number is seconds); nullopt when malformed or <= 0.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

/// The --help text.
std::string usage();

}  // namespace certctl::agent
