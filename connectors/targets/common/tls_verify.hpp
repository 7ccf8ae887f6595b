#pragma once
/// Post-deploy verification: does the endpoint now present the certificate just deployed?
/// Daemons reload asynchronously (nginx starts new workers, Apache finishes requests first,
/// Traefik and Envoy notice files on their own), so the check repeats until the served leaf's
/// SHA-256 fingerprint matches or the timeout passes. Every connection goes through the
/// outbound guard, so CERTCTL_OUTBOUND_ALLOW_CIDRS governs which endpoints may be probed.

#include <chrono>
#include <memory>
#include <string>

#include "events/result.hpp"
#include "infra/crypto/tls_probe.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::targets {

struct verify_endpoint {
  std::string host;
  int port = 443;
  std::string server_name;  ///< SNI; "" = host
  crypto::starttls_protocol starttls = crypto::starttls_protocol::none;
  std::chrono::milliseconds timeout{10000};  ///< all attempts together
};

/// "host:port" or "[v6]:port"; the message names what is wrong.
certctl::result<verify_endpoint, std::string> parse_endpoint(const std::string& text);

struct served {
  std::string fingerprint_sha256_hex;
  std::string serial_hex;
};

/// One probe of `at`. The error is readable and meant for the job's message.
certctl::result<served, std::string> probe_endpoint(const net::outbound_guard& guard,
                                                    const verify_endpoint& at);

/// Probes `at` until it serves `fingerprint_sha256_hex` (lower-case hex) on three fresh
/// connections in a row, or at.timeout passes; the error says what was served instead (or why
/// nothing could be read).
certctl::result<served, std::string> wait_until_served(const net::outbound_guard& guard,
                                                       const verify_endpoint& at,
                                                       const std::string& fingerprint_sha256_hex);

}  // namespace certctl::connectors::targets
