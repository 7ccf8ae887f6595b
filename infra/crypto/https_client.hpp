#pragma once
/// HTTPS GET through the outbound guard (infra/net): the guard resolves, checks and connects;
/// this adds TLS 1.2+ with the peer's chain verified against a CA bundle and its name (or IP
/// address) checked against the certificate, then the same request head, caps, deadline and
/// response parser as the plain http_get. For connectors and notifiers that call out over
/// HTTPS; OpenSSL stays inside infra/crypto.

#include <string>

#include "infra/net/outbound_http.hpp"

namespace certctl::crypto {

struct https_options {
  /// PEM file of trusted CAs; "" = the system's default trust store.
  std::string ca_bundle_path;
};

/// GET https://host:port/path. A failed handshake or verification is connect_failed with the
/// OpenSSL reason in the detail (log only; the client-facing text stays generic).
result<net::http_get_response, net::outbound_error> https_get(const net::outbound_guard& guard,
                                                              const net::http_get_request& req,
                                                              const net::outbound_limits& limits,
                                                              const https_options& options);

}  // namespace certctl::crypto
