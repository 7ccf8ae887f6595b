#pragma once
/// Loop 2, the job processor: hands Pending issuance and renewal jobs whose scheduled_at has
/// come (retries after a failure, or jobs whose hand-off was lost in a crash) to the issuance
/// service, whose run() starts the job with job.start.
///
/// job.start is the guard against double work: of two tasks for one job, only the first
/// finds it Pending. To avoid queueing such losers in the first place, a job is handed off
/// once per scheduled_at, and a job created moments ago with no attempt yet is left alone
/// for `fresh_job_grace`, since whoever created it handed it off already.
///
/// A hand-off can be lost without a trace: a worker whose job.start fails because the store
/// is unavailable (PostgreSQL restarting) leaves the job Pending with the same scheduled_at.
/// So a hand-off counts for `fresh_job_grace` only; a job still Pending after that is handed
/// off again.

#include <chrono>
#include <map>
#include <string>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "actors/workflows/renewal.hpp"

namespace certctl::schedulers {

struct job_processor_options {
  std::chrono::seconds fresh_job_grace{60};
  size_t batch = 200;  ///< jobs per tick
};

class job_processor {
 public:
  /// With an empty hand-off (agent keygen) ticks do nothing.
  job_processor(actors::entity_runtime& runtime, due_work_source& source,
                actors::issuance_handoff handoff, job_processor_options options = {});

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  due_work_source& source_;
  actors::issuance_handoff handoff_;
  job_processor_options options_;
  struct hand_off {
    events::timestamp_us scheduled_at = 0;  ///< the job's scheduled_at when handed off
    events::timestamp_us at = 0;            ///< when it was handed off
  };
  std::map<std::string, hand_off> handed_off_;  ///< job id -> its last hand-off
};

}  // namespace certctl::schedulers
