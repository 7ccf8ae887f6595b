#pragma once
/// Runs the notification loops (expiry alerts, delivery, the digest, webhook subscriptions)
/// on a thread of their own: it wakes every `wake` of real time, asks the injected clock for
/// the time and runs each loop whose own period has passed on that clock. Kept apart from
/// scheduler_runtime because delivery waits on remote peers (SMTP, HTTPS) for seconds and must
/// not hold up the renewal and job loops. Tests call tick(now) with a manual clock.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/schedulers/periodic_loop.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "infra/clock.hpp"

namespace certctl::schedulers {

class notification_scheduler {
 public:
  notification_scheduler(const infra::clock& clock, std::vector<periodic_loop> loops,
                         std::chrono::milliseconds wake = std::chrono::seconds(5),
                         std::function<void(const tick_report&)> on_report = {});
  ~notification_scheduler();
  notification_scheduler(const notification_scheduler&) = delete;
  notification_scheduler& operator=(const notification_scheduler&) = delete;

  void start();  ///< idempotent
  void stop();   ///< waits for a tick in progress; idempotent

  /// Runs, on the calling thread, every loop due at `now` (serialised with the thread's ticks).
  std::vector<tick_report> tick(events::timestamp_us now);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::schedulers
