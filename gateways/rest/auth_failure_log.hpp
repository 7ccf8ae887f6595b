#pragma once
/// The audit side of the router's auth hook (http::router_options::on_auth_failure): failed or
/// denied requests become `auth.denied` events in stream "security-auth", so the audit trail
/// shows who tried what from where (DESIGN §7), without one event per request: a client
/// hammering the API with a bad key must not be able to grow the log at request rate.
///
/// Failures are grouped per principal (the key name for a valid key without the permission,
/// else "anonymous") and source address, in windows of `window` (60 s by default):
///
///   first failure ──> auth.denied {count 1, method, path, reason}  appended at once
///   more failures in the window ──> counted (by reason; the last method and path kept)
///   window closes ──> auth.denied {count n, reasons {...}, first_at, last_at, aggregated,
///                     and the latest method, path and reason (fields of every auth.denied)}
///                     appended once, when n > 0 more failures came after the first
///
/// A window closes at the first record() or flush_expired() at or after its end (the server
/// calls flush_expired() from its main loop, and flush_all() on shutdown). At most
/// `max_open_windows` principals are tracked at once; failures beyond that share one window
/// under principal "anonymous" and address "*", so memory stays bounded whatever the caller
/// sends. Appends are asynchronous: a request never waits for the database, and a failed
/// append loses only this record, never the answer to the request.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::gateways::rest {

struct auth_failure_log_options {
  std::chrono::microseconds window = std::chrono::seconds(60);
  std::size_t max_open_windows = 10000;
};

/// Thread-safe: the router calls record() from every request thread.
class auth_failure_log {
 public:
  auth_failure_log(store::event_store& store, const infra::clock& clock,
                   auth_failure_log_options options = {});
  ~auth_failure_log();
  auth_failure_log(const auth_failure_log&) = delete;
  auth_failure_log& operator=(const auth_failure_log&) = delete;

  /// Counts one failure; appends at once when it opens a window.
  void record(const gateways::http::auth_event& e);
  /// Closes every window whose time is up, appending its summary.
  void flush_expired();
  /// Closes every window now (shutdown), appending the summaries.
  void flush_all();
  /// Windows currently open (for tests and diagnostics).
  std::size_t open_windows() const;

 private:
  struct window_state {
    events::timestamp_us opened_at = 0;
    events::timestamp_us last_at = 0;
    std::int64_t more = 0;  ///< failures after the first, not yet recorded
    std::map<std::string, std::int64_t> reasons;
    std::string reason, method, path, request_id;  ///< of the latest failure
  };
  using key = std::pair<std::string, std::string>;  ///< principal, source address

  void close_expired_locked(events::timestamp_us now, bool all);
  void append(const key& k, const std::string& payload, const std::string& request_id);

  store::event_store& store_;
  const infra::clock& clock_;
  auth_failure_log_options options_;
  mutable std::mutex mu_;
  std::map<key, window_state> open_;
};

}  // namespace certctl::gateways::rest
