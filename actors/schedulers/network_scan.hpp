#pragma once
/// The network TLS scanner (issue 16 items 1 and 5, docs/discovery.md): scans the ranges and
/// ports of a network_scan_target entity and feeds every certificate it is served into the one
/// discovery pipeline (actors/workflows/discovery.hpp) with source "server-scanner" and source
/// path "ip:port", so a certificate seen by the scanner and by an agent is one discovery.
///
///   scan(target) -> addresses x ports -> guard.permits? -> bounded probe pool (TLS handshake,
///   leaf read) -> record_discovery (dedup by fingerprint, one discovery_scan) ->
///   network_scan_target.record_scan {last_scan_at, duration, certs found}
///
/// Probes never run in an entity handler: on-demand scans run on the caller's (request)
/// thread with their probes on at most `concurrency` worker threads; periodic scans run on the
/// scanner's own thread, never on the scheduler's. Every address goes through the outbound
/// guard: reserved ranges (private, loopback, link-local, ...) are refused and counted unless
/// CERTCTL_OUTBOUND_ALLOW_CIDRS allows them.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/schedulers/tick_report.hpp"
#include "infra/clock.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::schedulers {

/// What one probe of ip:port saw: the served leaf (PEM), or why there was none.
struct scan_probe_result {
  bool tls = false;
  std::string pem;                 ///< the leaf
  std::vector<std::string> chain;  ///< the certificates sent after it (intermediates, roots)
  std::string tls_version;         ///< negotiated, e.g. "TLSv1.3"
  std::string error;               ///< when !tls: the cause, for the log
};

/// Probes one address and port with `timeout_ms`; called on worker threads (thread-safe).
using scan_prober =
    std::function<scan_probe_result(const net::ip_address& ip, int port, std::int64_t timeout_ms)>;

/// The real prober: a TLS handshake through `guard` (infra/crypto/tls_probe), no SNI. `guard`
/// must outlive the returned function.
scan_prober tls_scan_prober(const net::outbound_guard& guard);

/// The hosts of a range in order: a bare address or a /32 (/128) is itself; network and
/// broadcast addresses of IPv4 ranges up to /30 are left out. Host bits of the base are
/// ignored ("10.0.0.7/24" is 10.0.0.0/24). Empty when `cidr` does not parse.
std::vector<net::ip_address> scan_hosts(const std::string& cidr);

/// "ip:port", IPv6 in brackets: the source path of a finding.
std::string scan_source_path(const net::ip_address& ip, int port);

struct network_scan_options {
  size_t concurrency = 50;        ///< probes at once within one scan
  size_t max_parallel_scans = 2;  ///< scans at once (on-demand and periodic together)
  size_t queue_limit = 64;        ///< periodic scans waiting for the scanner's thread
  /// Findings recorded per scan (at most actors::max_discovery_items, the pipeline's cap per
  /// report); endpoints past it are named in the scan's errors.
  size_t max_findings = 5000;
};

struct network_scan_outcome {
  bool ok = false;
  bool not_found = false;     ///< no such target
  std::string error;          ///< when !ok
  events::json_object scan;   ///< the discovery_scan view
  std::int64_t position = 0;  ///< of the last command written
  std::int64_t probes = 0;    ///< address x port pairs probed
  std::int64_t refused = 0;   ///< addresses the outbound guard refused (not probed)
  std::int64_t tls_endpoints = 0;
  std::int64_t duration_ms = 0;
};

/// Lists the network_scan_target views (the read model; tools/server adapter).
using scan_target_lister = std::function<std::vector<events::json_object>(std::string& error)>;

class network_scanner {
 public:
  /// Every reference must outlive this object; the periodic thread starts at once.
  network_scanner(actors::entity_runtime& runtime, const net::outbound_guard& guard,
                  const infra::clock& clock, scan_prober prober, network_scan_options options = {});
  /// Lets the running periodic scan finish, drops the queued ones.
  ~network_scanner();
  network_scanner(const network_scanner&) = delete;
  network_scanner& operator=(const network_scanner&) = delete;

  /// Scans target `id` now and blocks until it is recorded (a request thread or the
  /// scanner's own). `principal` and `correlation_id` go on the commands.
  network_scan_outcome scan(const std::string& id, const std::string& principal,
                            const std::string& correlation_id);

  /// The periodic loop: queues each enabled target of `list` whose scan_interval_hours has
  /// passed since its last scan (or that was never scanned) for the scanner's thread; the
  /// report lists them as "network_scan_target.scan" actions.
  tick_report tick(events::timestamp_us now, const scan_target_lister& list);

  /// Blocks until no periodic scan is queued or running (tests, shutdown).
  void drain();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::schedulers
