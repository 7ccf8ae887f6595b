#pragma once
/// HAProxy's runtime API (the `stats socket ... level admin` of its global section): replaces
/// a loaded certificate in memory without a reload, `set ssl cert <file> <<` with the new
/// PEM, then `commit ssl cert <file>` (HAProxy 2.1+). The socket is a Unix socket path (local
/// IPC) or `ipv4@host:port` / `host:port`, which goes through the outbound guard.

#include <string>

#include "events/result.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::targets {

struct runtime_api_error {
  std::string message;
};

/// Sends one command (newline-terminated by the caller) and returns everything HAProxy
/// answered before closing the connection (non-interactive mode closes after one command).
certctl::result<std::string, runtime_api_error> runtime_api_command(
    const net::outbound_guard& guard, const std::string& address, const std::string& command);

/// `set ssl cert` + `commit ssl cert` for `crt_path` (the name HAProxy loaded it under).
certctl::result<done, std::string> runtime_api_update_cert(const net::outbound_guard& guard,
                                                           const std::string& address,
                                                           const std::string& crt_path,
                                                           const std::string& pem);

}  // namespace certctl::connectors::targets
