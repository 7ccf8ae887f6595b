#pragma once
/// The event-driven plain-HTTP listener of the PKI port (CERTCTL_PKI_HTTP_PORT): epoll, non-
/// blocking sockets, a few I/O threads, HTTP/1.1 keep-alive and pipelining, for thousands of
/// relying parties and stapling proxies at once.
///
/// Why not http::http_server: cpp-httplib holds one thread per open connection, so at 64
/// keep-alive clients some requests failed and the rate fell from ~39k to ~16k/s
/// (docs/benchmarks.md, "OCSP responder"). Here a connection costs a buffer, not a thread.
///
/// Each request is first offered to `fast` on the I/O thread, which answers what is ready in
/// memory (a pre-signed OCSP response) and must never block; what it declines goes to a small
/// worker pool (`handle`: signing, syncing the cache, a CRL) and is answered when ready. A
/// connection takes its next pipelined request only after the answer to the previous one, so
/// answers keep the order of the requests.
///
/// Timeouts: an idle keep-alive connection is closed after `idle_timeout`; a request must
/// arrive whole within `request_timeout` of its first byte and an answer must drain within
/// `request_timeout` of the last progress (slowloris: the clock is not reset by a trickle of
/// bytes). Neither blocks other connections.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "events/result.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/http_types.hpp"
#include "gateways/pki/http1_parser.hpp"

namespace certctl::gateways::pki {

struct listener_config {
  std::string host = "127.0.0.1";
  int port = 0;                ///< 0 = any free port; see pki_listener::port()
  std::size_t io_threads = 0;  ///< 0: one per core
  std::size_t workers = 2;     ///< threads for what `fast` declines (signing, CRLs)
  http1_limits limits;
  std::chrono::milliseconds idle_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_connections = 20000;        ///< accepted beyond that are closed at once
  std::size_t keep_alive_max_count = 100000;  ///< requests per connection before it is closed
};

/// What the listener calls; all must be thread-safe and must not throw.
struct listener_handler {
  /// On an I/O thread: the answer when it is ready without blocking, else nullopt. May be
  /// empty (everything goes to `handle`).
  std::function<std::optional<http::response>(const http::raw_request&)> fast;
  /// On a worker thread: the answer, however long it takes.
  std::function<http::response(const http::raw_request&)> handle;
  /// Renders an error the parser found (400, 413, 414, 431, 501, 505).
  std::function<http::response(const http::raw_request&, int status)> transport_error;
};

class pki_listener {
 public:
  pki_listener(listener_config config, listener_handler handler);
  ~pki_listener();  ///< stops
  pki_listener(const pki_listener&) = delete;
  pki_listener& operator=(const pki_listener&) = delete;

  /// Raises the process's open-file limit to what max_connections needs (up to the hard
  /// limit), binds, listens, and starts the threads.
  certctl::result<done, http::server_error> start();
  /// Closes every connection, answers nothing more, joins the threads. Idempotent.
  void stop();

  int port() const;  ///< the bound port; 0 before start()
  /// Open connections right now (tests watch it).
  std::size_t open_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::gateways::pki
