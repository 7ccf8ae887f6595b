#pragma once
/// An HTTP(S) listener around cpp-httplib that hands every request to a dispatcher (normally a
/// router). No httplib or OpenSSL type appears here; they stay in the .cpp.
///
/// Measured facts this encodes (TESTING-PEERS.md, "Library facts"): TCP_NODELAY is always on
/// (Nagle plus delayed ACK otherwise costs ~40 ms per keep-alive response), and httplib holds one
/// pool thread per open keep-alive connection, so the pool is sized for the expected connection
/// count.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "events/result.hpp"
#include "gateways/http/http_types.hpp"

namespace certctl::gateways::http {

class router;

struct server_config {
  std::string host = "127.0.0.1";
  int port = 0;              ///< 0 = any free port; see http_server::port()
  bool tls = true;           ///< false only for tests and the plain-HTTP PKI port (CRL/OCSP)
  std::string cert_file;     ///< PEM certificate chain, leaf first (tls only)
  std::string key_file;      ///< PEM private key (tls only)
  std::size_t threads = 64;  ///< worker threads = concurrent keep-alive connections served
  std::size_t keep_alive_max_count = 1000;  ///< requests per connection before it is closed
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::size_t max_body_bytes = 1 << 20;  ///< larger bodies get 413 before they are read
  /// Ask TLS clients for a certificate (optional: a client without one still connects) and
  /// hand it to the request unverified, with the RFC 9266 tls-exporter value (EST and SCEP mTLS).
  bool request_client_certificates = false;
};

struct server_error {
  std::string message;
};

/// What the server calls; both must be thread-safe and must not throw.
struct dispatcher {
  std::function<response(const raw_request&)> handle;
  /// Renders an error the transport detected itself (413, 400, 414, ...).
  std::function<response(const raw_request&, int status)> transport_error;
};

/// Wires a router in: `r` must outlive the server.
dispatcher dispatch_to(const router& r);

class http_server {
 public:
  http_server(server_config config, dispatcher d);
  ~http_server();  ///< stops
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Loads the TLS material (TLS 1.2 minimum), binds, and starts serving on a background thread;
  /// returns once the server accepts connections.
  certctl::result<done, server_error> start();

  /// Stops accepting, lets in-flight requests finish, joins the threads. Idempotent.
  void stop();

  /// The bound port (useful with port 0); 0 before start().
  int port() const;
  bool running() const;
  const server_config& config() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::gateways::http
