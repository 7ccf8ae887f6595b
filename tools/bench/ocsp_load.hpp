#pragma once
/// The load generator of `certctl-bench ocsp`: C keep-alive connections driven by a few epoll
/// threads (not a thread per connection, so 1,000 clients do not need 1,000 threads on the
/// same two cores as the server), each connection one request at a time, POST round robin.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace certctl::bench {

struct ocsp_load_options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path;                 ///< e.g. /.well-known/pki/ocsp/iss-local
  std::vector<std::string> bodies;  ///< DER OCSP requests, sent round robin
  std::size_t connections = 8;
  std::size_t threads = 1;
  std::chrono::seconds duration{10};
  /// 0: closed loop (each connection sends again as soon as it is answered: the saturation
  /// rate; latency is then connections / rate by Little's law). Otherwise open loop: this many
  /// requests per second over all connections, each on a fixed schedule, and latency counted
  /// from the scheduled time, so a slow answer delays the count rather than hiding it.
  double rate = 0;
};

struct ocsp_load_result {
  /// One per successful answer to a request sent in the measured window (answered in the
  /// window or in the 10 s after it).
  std::vector<double> latencies_us;
  std::uint64_t failures = 0;  ///< non-200, non-successful OCSP, or a broken connection
  std::string first_failure;
  std::uint64_t reconnects = 0;            ///< connections re-opened after the server closed one
  std::uint64_t answered_connections = 0;  ///< connections that got at least one answer
  double elapsed_s = 0;
};

/// Raises the soft open-file limit to the hard one when `needed` descriptors do not fit.
void raise_fd_limit(std::size_t needed);

ocsp_load_result run_ocsp_load(const ocsp_load_options& options);

}  // namespace certctl::bench
