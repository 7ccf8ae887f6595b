#pragma once
/// Runs issuance outside the entity actors (DESIGN §5: long work never runs in a handler):
/// key generation, CSR checks and CA signing happen on this service's worker threads; each
/// outcome goes back to the job and certificate entities as a command.
///
///   server keygen: job.start -> generate key -> CSR -> issuer.issue -> key store
///                  -> certificate.record_issued -> job.complete
///   agent keygen:  (job.submit_csr already accepted) -> issuer.issue
///                  -> certificate.record_issued -> job.complete
///   any failure:   job.fail -> certificate.record_failure
///   async CA:      issuer.issue -> pending order -> CSR (and key) to the key store
///                  -> job.await_order; then per poll (schedulers/order_poll):
///                  issuer.get_order_status -> job.poll_order (next poll, bounded backoff)
///                  | certificate.record_issued -> job.complete | job.fail
///   cancel:        job.cancel (REST) -> issuer.cancel_order -> job.order_cancelled
///
/// Issuers are isolated from one another: at most `per_issuer_limit` tasks of one issuer run
/// at once (default: all workers but one), so an issuer whose calls hang until their timeouts
/// cannot take every worker; tasks of other issuers pass the blocked ones in the queue.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/order_schedule.hpp"

namespace certctl::connectors {
class issuer;
}
namespace certctl::crypto {
class key_store;
struct csr_info;
}  // namespace certctl::crypto

namespace certctl::actors {

struct issuance_task {
  std::string certificate_id;
  std::string job_id;
  events::json_object certificate;  ///< the certificate's view: common_name, sans, ...
  std::string csr_pem;              ///< empty: server keygen
  std::string correlation_id;
  std::string principal;
  /// Set: this task follows the job's pending asynchronous order instead of starting it.
  bool poll_order = false;
  /// Optional: csr_pem already parsed with its signature verified (ACME finalize checks it
  /// before queueing), so the worker does not parse it a second time.
  std::shared_ptr<const crypto::csr_info> parsed_csr = nullptr;
  /// Set: the job was cancelled; this task withdraws its pending order at the CA.
  bool cancel_order = false;
};

/// How pending asynchronous orders are followed: polls follow `ladder` (default 5 s, 15 s,
/// 45 s, 2 min, then every 5 min; order_schedule.hpp), each wait spread by +-`jitter`, never
/// sooner than a Retry-After the CA gave; an order still pending `order_timeout` after it was
/// placed (or the issuer's own capabilities().order_timeout_seconds) fails the job
/// (retryable: the renewal policy's retries place a new order).
struct order_policy {
  std::vector<std::chrono::seconds> ladder = default_poll_ladder();
  double jitter = 0.2;
  std::chrono::seconds order_timeout{std::chrono::hours(24)};
  /// The time (the server's injected clock); empty: the system clock.
  std::function<events::timestamp_us()> now;
  /// A uniform draw in [0, 1) for the jitter; empty: the CSPRNG.
  std::function<double()> random;
};

/// Told about every issuance attempt that reached the key/CSR/CA steps (not about tasks whose
/// job was already taken or cancelled): the issuer's type name, whether the certificate was
/// recorded, and the attempt's wall time. Runs on the worker thread; keep it cheap.
using issuance_observer =
    std::function<void(const std::string& issuer_type, bool success, double seconds)>;

/// When a retryable failure's next attempt is due (absolute time); see schedulers/job_retry.hpp.
/// Finds a certificate profile's current definition (nullopt: no such profile).
using profile_lookup = std::function<std::optional<events::json_object>(const std::string& id)>;

using retry_schedule = std::function<events::timestamp_us(const issuance_task&)>;

/// Told, on the worker thread, after a task's certificate version was recorded and its job
/// completed: the automatic deployment to the certificate's targets starts here
/// (deployment.hpp, deploy_after_issuance). `certificate` is the certificate's view as
/// `certificate.record_issued` left it, so the listener need not read the entity again.
using issued_listener = std::function<void(const issuance_task& task, const std::string& version_id,
                                           const events::json_object& certificate)>;

/// Picks the issuer for a task other than the default one (e.g. an intermediate CA named by
/// the certificate's issuer config). nullptr with `error` empty: the default issuer; nullptr
/// with `error` set: the task fails with that error (fail closed, never the default instead).
using issuer_resolver =
    std::function<connectors::issuer*(const issuance_task&, std::string& error)>;

/// Decides whether a task may be issued at all (the governance policy rules): an error message
/// fails the job without retry, nullopt lets it go on. Runs on the worker thread.
using issuance_gate = std::function<std::optional<std::string>(const issuance_task&)>;

class issuance_service {
 public:
  issuance_service(entity_runtime& runtime, connectors::issuer& issuer, crypto::key_store& keys,
                   size_t threads = 2);
  ~issuance_service();

  /// Queues the task; returns at once.
  void enqueue(issuance_task task);
  /// The same, and `on_finished` runs on the worker thread once this attempt is over, whatever
  /// its outcome (issued, failed, or skipped because the job was taken). The ACME gateway's
  /// finalize waits on it instead of polling the certificate. Keep it cheap.
  void enqueue(issuance_task task, std::function<void()> on_finished);

  /// Runs a task on the calling thread (tests, and the bounded queue's back-pressure path).
  void run(const issuance_task& task);

  /// Sets when retries are due. Unset: at once (the job's own default).
  void set_retry_schedule(retry_schedule schedule);

  /// Enables profile enforcement: key algorithm and size, MaxTTL and EKUs of the certificate's
  /// profile (certificate_profile_id). Without it, the issuer's defaults apply.
  void set_profile_lookup(profile_lookup lookup);

  /// Checks every task before a key is made or a CA is asked (unset: no check).
  void set_issuance_gate(issuance_gate gate);

  /// Routes tasks to other issuers (unset: every task goes to the constructor's issuer).
  void set_issuer_resolver(issuer_resolver resolver);

  /// Replaces the issued listener (empty: none).
  void set_issued_listener(issued_listener listener);

  /// Queues a poll of job `job_id`'s pending order (certificate `certificate_id`); returns at
  /// once. The job's own state says which order and issuer (job.order_pending).
  void poll_order(const std::string& job_id, const std::string& certificate_id,
                  const std::string& correlation_id);

  void set_order_policy(order_policy policy);

  /// Queues the withdrawal of cancelled job `job_id`'s pending order at its CA (where the
  /// issuer's capabilities().cancel_orders) and records the outcome on the job
  /// (job.order_cancelled); returns at once. Does nothing for a job without a pending order.
  void cancel_order(const std::string& job_id, const std::string& certificate_id,
                    const std::string& correlation_id, const std::string& principal);

  /// At most `limit` (>= 1) tasks of one issuer at once. Default: workers - 1 (at least 1).
  void set_per_issuer_limit(size_t limit);

  /// Tasks queued or running.
  size_t pending() const;

  /// Replaces the observer (empty: none). Thread-safe; attempts already running may still
  /// report to the previous one.
  void set_observer(issuance_observer observer);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::actors
