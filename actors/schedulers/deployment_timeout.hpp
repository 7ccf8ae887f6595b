#pragma once
/// The deployments loop: Deployment and Validation jobs wait on an agent, and an agent that
/// never comes back (or dies mid-deploy) must not leave a job Pending or Running for good.
///
///   Pending  since before now - timeout  (the agent never picked the job up)
///   Running  with no report since before now - timeout  (it took the job and went silent;
///            every step it reports counts as a report)
///     -> job.time_out {error: "agent <id> did not report within <n> s ...", timeout_seconds}
///        (job.timed_out: Failed for good; the agent's late report is a 409 and changes
///        nothing, see gateways/rest/agent_job_routes.hpp)
///
/// The timeout is CERTCTL_DEPLOYMENT_TIMEOUT (default 15 min: agents poll every 30 s, and a
/// deploy with validate, reload and a TLS verify takes seconds to a minute). It must stay below
/// the generic running-job timeout (job_timeout.hpp, 30 min), which would otherwise fail the job
/// with a less useful message first. Commands carry deterministic ids, so two nodes (or a stale
/// read) time a job out once.

#include <chrono>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

class deployment_timeout {
 public:
  deployment_timeout(actors::entity_runtime& runtime, due_work_source& source,
                     std::chrono::seconds timeout, size_t batch = 200);

  tick_report tick(events::timestamp_us now);

 private:
  void time_out(const due_job& job, tick_report& report);

  actors::entity_runtime& runtime_;
  due_work_source& source_;
  std::chrono::seconds timeout_;
  size_t batch_;
};

}  // namespace certctl::schedulers
