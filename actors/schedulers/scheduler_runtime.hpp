#pragma once
/// Runs the scheduler loops periodically (CAF-free facade; the driving actor lives in the
/// .cpp). One actor wakes every `tick_interval`, asks the injected clock for the time and runs
/// each loop whose own period has passed since it last ran. Loops block on entity commands,
/// so the actor has a thread of its own and never shares one with entity actors.
///
/// Time for the loops' decisions always comes from the injected clock; real time only paces
/// the wake-ups. Tests call tick(now) (or the loops' own tick) with a manual clock instead of
/// waiting for timers.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/schedulers/agent_health.hpp"
#include "actors/schedulers/ari_check.hpp"
#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/job_processor.hpp"
#include "actors/schedulers/job_timeout.hpp"
#include "actors/schedulers/order_poll.hpp"
#include "actors/schedulers/periodic_loop.hpp"
#include "actors/schedulers/renewal_check.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "infra/clock.hpp"

namespace certctl::schedulers {

struct scheduler_options {
  std::chrono::milliseconds tick_interval{std::chrono::seconds(5)};  ///< wake-up period
  // Each loop's own period, measured on the injected clock.
  std::chrono::seconds renewal_every{std::chrono::minutes(5)};
  std::chrono::seconds short_lived_every{std::chrono::seconds(10)};
  std::chrono::seconds jobs_every{std::chrono::seconds(10)};
  std::chrono::seconds timeouts_every{std::chrono::minutes(1)};
  std::chrono::seconds agents_every{std::chrono::minutes(1)};
  std::chrono::seconds orders_every{std::chrono::seconds(2)};
  std::chrono::seconds ari_every{std::chrono::hours(6)};
  renewal_check_options renewal;
  job_processor_options jobs;
  job_timeout_options timeouts;
  agent_health_options agents;
  order_poll_options orders;  ///< orders.poll empty: asynchronous orders are not followed
  ari_check_options ari;      ///< ari.advice empty: no ARI-driven renewal
  std::vector<periodic_loop> extra_loops;
  /// Told about every tick that did something or hit an error (logs, metrics). Runs on the
  /// scheduler's thread.
  std::function<void(const tick_report&)> on_report;
};

class scheduler_runtime {
 public:
  /// `handoff` gives server-keygen jobs to the issuance service; empty in agent keygen mode.
  /// Every reference must outlive this object.
  scheduler_runtime(actors::entity_runtime& runtime, due_work_source& source,
                    const infra::clock& clock, actors::issuance_handoff handoff,
                    scheduler_options options = {});
  ~scheduler_runtime();
  scheduler_runtime(const scheduler_runtime&) = delete;
  scheduler_runtime& operator=(const scheduler_runtime&) = delete;

  /// Starts the periodic actor; its first tick runs at once. Idempotent.
  void start();
  /// Stops the actor, waiting for a tick in progress to finish. Idempotent.
  void stop();
  bool running() const;

  /// Runs, on the calling thread, every loop whose period has passed at `now`; the reports
  /// of the loops that ran. Serialised with the actor's ticks.
  std::vector<tick_report> tick(events::timestamp_us now);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::schedulers
