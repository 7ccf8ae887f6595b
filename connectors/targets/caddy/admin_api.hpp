#pragma once
/// Caddy's admin API (http://host:port, default localhost:2019), reached through the outbound
/// guard: `GET /config/` reads the running configuration and `POST /load` with
/// `Cache-Control: must-revalidate` loads it again even though it is unchanged, which makes
/// Caddy re-read the certificate files it names (what `caddy reload --force` does).

#include <string>

#include "events/result.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::targets {

struct admin_endpoint {
  std::string host;
  int port = 2019;
};

struct admin_api_error {
  std::string message;
};

/// "http://host:port" (path "/" or none); https and other schemes are refused: Caddy's admin
/// endpoint speaks plain HTTP on a local address (or a Unix socket, not supported here).
certctl::result<admin_endpoint, admin_api_error> parse_admin_url(const std::string& url);

/// The running configuration as JSON text.
certctl::result<std::string, admin_api_error> caddy_current_config(const net::outbound_guard& guard,
                                                                   const admin_endpoint& at);

/// Loads `config_json` again, forcing a reload even when it is unchanged.
certctl::result<done, admin_api_error> caddy_force_load(const net::outbound_guard& guard,
                                                        const admin_endpoint& at,
                                                        const std::string& config_json);

}  // namespace certctl::connectors::targets
