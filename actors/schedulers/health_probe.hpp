#pragma once
/// The endpoint health probe loop (issue 16 item 2): each tick asks the read model which
/// health checks are due and hands them to a bounded pool of worker threads, which read the
/// certificate each endpoint serves (infra/crypto/tls_probe, through the outbound guard) and
/// send the outcome to the check as health_check.record_probe. The entity decides the status
/// (domain/health_check.hpp); probing never happens inside an entity handler, and a slow or
/// silent endpoint holds one worker for at most its timeout, never the scheduler's thread.
///
/// A check already queued or being probed is not queued again, nor one this loop handed out
/// less than its interval ago, so a read model that has not caught up with the last probe
/// does not double it; a full queue leaves the rest for the next tick.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/schedulers/tick_report.hpp"
#include "infra/clock.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::schedulers {

struct health_probe_target {
  std::string id;
  std::string endpoint;  ///< host:port
  std::int64_t timeout_ms = 5000;
  std::int64_t interval_seconds = 300;
};

/// The checks due at `now`, from the read model (tools/server adapter).
class due_health_checks {
 public:
  virtual ~due_health_checks() = default;
  /// Up to `limit` enabled checks whose interval has passed, longest waiting first; `error`
  /// set on failure.
  virtual std::vector<health_probe_target> due(events::timestamp_us now, size_t limit,
                                               std::string& error) = 0;
};

/// What one probe saw: the fields of health_check.record_probe.
struct probe_outcome {
  bool ok = false;
  std::string failure_reason;          ///< when !ok
  std::int64_t response_time_ms = -1;  ///< -1: not measured
  std::string fingerprint_sha256_hex;
  std::string serial_hex;
  std::string subject_dn;
  std::string issuer_dn;
  std::string tls_version;         ///< e.g. "TLSv1.3"
  std::string cipher_suite;        ///< as OpenSSL names it
  std::string pem;                 ///< the served leaf ("" when not read)
  std::vector<std::string> chain;  ///< what the endpoint sent after it
  std::int64_t not_before = 0;     ///< seconds since the epoch; 0 unknown
  std::int64_t not_after = 0;
};

/// Probes one endpoint; called on a worker thread, so it must be thread-safe.
using endpoint_prober = std::function<probe_outcome(const health_probe_target&)>;

/// The real prober: the leaf the endpoint serves, through `guard` (refusing what
/// CERTCTL_OUTBOUND_ALLOW_CIDRS does not allow), with the target's timeout. `guard` must
/// outlive the returned function.
endpoint_prober tls_endpoint_prober(const net::outbound_guard& guard);

struct health_probe_options {
  size_t workers = 4;        ///< probes at once
  size_t queue_limit = 256;  ///< checks waiting for a worker
  size_t batch = 200;        ///< checks asked for per tick
};

class health_probe_loop {
 public:
  /// Every reference must outlive this object; the workers start at once.
  health_probe_loop(actors::entity_runtime& runtime, due_health_checks& source,
                    const infra::clock& clock, endpoint_prober prober,
                    health_probe_options options = {});
  /// Finishes the probes in progress, drops the queued ones, joins the workers.
  ~health_probe_loop();
  health_probe_loop(const health_probe_loop&) = delete;
  health_probe_loop& operator=(const health_probe_loop&) = delete;

  /// Queues the due checks that are not queued or in progress; the report lists them as
  /// "health_check.probe" actions (the outcomes arrive later, through on_probe).
  tick_report tick(events::timestamp_us now);

  /// Blocks until no probe is queued or in progress (tests, orderly shutdown).
  void drain();

  /// Told about each probe's command (its own one-action report); runs on a worker thread.
  /// Set before the first tick.
  void on_probe(std::function<void(const tick_report&)> callback);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::schedulers
