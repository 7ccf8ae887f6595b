#pragma once
/// Loop 4, job timeouts: jobs that wait for something that will not come.
///
///   AwaitingCSR for longer than csr_timeout (24 h)
///     -> job.cancel {reason: "timed out waiting for CSR"} (job.fail is not an option: the job
///        never started, and no agent is working on it, so there is nothing to retry)
///     -> certificate.record_failure, so the certificate does not stay Pending or
///        RenewalInProgress for good
///   Running for longer than running_timeout (30 min): the worker that ran it is gone (a crash
///   or restart mid-issuance)
///     -> job.fail {retryable: true}: retried at once by the job processor while attempts
///        remain (the CA did not fail, so no back-off); when none remain the job is Failed and
///        the certificate gets certificate.record_failure.
///
/// Waiting time for AwaitingCSR counts from the later of created_at and scheduled_at, so an
/// agent-mode retry gets a full period again.

#include <chrono>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

struct job_timeout_options {
  std::chrono::seconds csr_timeout{std::chrono::hours(24)};
  std::chrono::seconds running_timeout{std::chrono::minutes(30)};
  size_t batch = 200;  ///< jobs of each kind per tick
};

class job_timeout {
 public:
  job_timeout(actors::entity_runtime& runtime, due_work_source& source,
              job_timeout_options options = {});

  tick_report tick(events::timestamp_us now);

 private:
  void time_out_csr_waits(events::timestamp_us now, tick_report& report);
  void fail_stuck_jobs(events::timestamp_us now, tick_report& report);

  actors::entity_runtime& runtime_;
  due_work_source& source_;
  job_timeout_options options_;
};

}  // namespace certctl::schedulers
