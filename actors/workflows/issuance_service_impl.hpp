#pragma once
/// Private to the issuance service: its state and steps, shared by issuance_service.cpp (the
/// queue and the issuance itself) and issuance_orders.cpp (following a CA's pending orders).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/workflows/issuance_service.hpp"
#include "connectors/issuers/issuer.hpp"

namespace certctl::actors {

struct issuance_service::impl {
  entity_runtime& runtime;
  connectors::issuer& issuer;
  crypto::key_store& keys;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<issuance_task> queue;
  /// Parallel to `queue`: who waits for each task (empty function: nobody).
  std::deque<std::function<void()>> waiters;
  /// Parallel to `queue`: each task's issuer, read from its JSON once at enqueue, and how many
  /// queued tasks each issuer has. Scanning the JSON of a queue thousands long on every wake
  /// was ~6 % of the server's CPU in the issuance benchmark.
  std::deque<std::string> queued_issuers;
  std::map<std::string, size_t> queued_per_issuer;
  size_t running = 0;
  bool stopping = false;
  std::vector<std::thread> workers;
  retry_schedule retry_at;                  ///< guarded by mu
  profile_lookup profiles;                  ///< guarded by mu
  issuance_observer observer;               // guarded by mu
  issuer_resolver resolver;                 ///< guarded by mu
  issuance_gate gate;                       ///< guarded by mu
  issued_listener on_issued;                ///< guarded by mu
  order_policy orders;                      ///< guarded by mu
  size_t per_issuer_limit = 1;              ///< guarded by mu
  std::map<std::string, size_t> in_flight;  ///< issuer id -> tasks running; guarded by mu

  impl(entity_runtime& r, connectors::issuer& i, crypto::key_store& k)
      : runtime(r), issuer(i), keys(k) {}

  static std::string issuer_key(const issuance_task& t) { return t.certificate.str("issuer_id"); }

  /// The first queued task whose issuer is below its limit; queue.size() when none. Under mu.
  size_t runnable() const {
    auto below_limit = [&](const std::string& issuer) {
      auto it = in_flight.find(issuer);
      return it == in_flight.end() || it->second < per_issuer_limit;
    };
    // Every issuer with queued work at its limit (the usual state under load): nothing runs.
    bool any = false;
    for (const auto& q : queued_per_issuer) any = any || below_limit(q.first);
    if (!any) return queue.size();
    for (size_t i = 0; i < queue.size(); ++i)
      if (below_limit(queued_issuers[i])) return i;
    return queue.size();
  }

  order_policy policy() {
    std::lock_guard<std::mutex> lock(mu);
    return orders;
  }

  events::timestamp_us now() {
    auto p = policy();
    if (p.now) return p.now();
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  /// Key store ids of what a pending order finishes with (valid_key_id: job ids are safe).
  static std::string order_csr_id(const std::string& job) { return "order-" + job + "-csr"; }
  static std::string order_key_id(const std::string& job) { return "order-" + job + "-key"; }

  enum class outcome { skipped, succeeded, failed };

  /// A command of task `t`, by its principal (or the issuance service's) and correlation id.
  static domain::command make_command(const issuance_task& t, const std::string& name,
                                      const std::string& id, events::json_object body);

  outcome fail(const issuance_task& t, const std::string& error, bool retryable);
  /// Runs one task and reports its outcome to the observer, if any.
  void run(const issuance_task& t);
  outcome attempt(const issuance_task& t);
  /// Records an issued certificate on its entity and completes the job.
  outcome record(const issuance_task& t, const std::string& issuer_id,
                 const connectors::issued_certificate& cert, const std::string& csr_pem,
                 const std::string& key_pem, const std::string& key_algorithm, int key_bits);
  /// The CA took the request as an order: keep what finishing needs, record the order on the
  /// job, and leave the rest to the order poller.
  outcome start_order(const issuance_task& t, connectors::issuer& target,
                      const connectors::issued_certificate& pending, const std::string& csr_pem,
                      const std::string& key_pem);
  void forget_order(const std::string& job);
  outcome fail_order(const issuance_task& t, const std::string& error, bool retryable);
  /// The issuer that took the job's order, whatever the certificate names now; nullptr with
  /// `error` set when it is gone.
  connectors::issuer* order_issuer(const issuance_task& t, const events::json_object& j,
                                   std::string& error);
  /// Withdraws a cancelled job's pending order at the CA; the outcome goes on the job.
  outcome withdraw(const issuance_task& t);
  /// One poll of the job's pending order.
  outcome follow_order(const issuance_task& t);
  /// Records the poll and when the next one is due: the ladder step for the polls so far,
  /// jittered, and never before the CA's Retry-After (`not_before`, 0: none).
  outcome repoll(const issuance_task& t, const events::json_object& job,
                 const std::string& ca_state, const std::string& message,
                 events::timestamp_us not_before, events::timestamp_us at, const order_policy& p);
  /// A worker thread: takes runnable tasks until the service stops.
  void work();

  /// The wait before poll `polls` + 1 (order_schedule.hpp), jitter drawn here.
  static std::int64_t wait_after(const order_policy& p, std::int64_t polls) {
    return poll_wait_us(p.ladder, polls, p.jitter, p.random ? p.random() : random_unit());
  }

  static std::int64_t micros(std::chrono::seconds s) {
    return std::chrono::duration_cast<std::chrono::microseconds>(s).count();
  }
};

}  // namespace certctl::actors
