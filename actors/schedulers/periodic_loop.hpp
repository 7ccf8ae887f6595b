#pragma once
/// A loop defined outside the built-in scheduler loops (governance sweeps, approval expiry,
/// health probes, the notification loops): ticked at its own period on the injected clock by
/// scheduler_runtime (extra_loops) or notification_scheduler.

#include <chrono>
#include <functional>
#include <string>

#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

struct periodic_loop {
  std::string name;
  std::chrono::seconds every{std::chrono::minutes(1)};
  std::function<tick_report(events::timestamp_us now)> tick;
  /// false: the first run waits one period (the digest does not go out at start).
  bool run_at_start = true;
};

}  // namespace certctl::schedulers
