#pragma once
/// What an agent calls besides heartbeat, CSR and certificate pickup (issue 12):
///
///   GET  /api/v1/agents/{id}/work                   AwaitingCSR jobs, and its Pending
///                                                   Deployment and Validation jobs with the
///                                                   target's type and config (secrets opened:
///                                                   the agent must use them)
///   POST /api/v1/agents/{id}/jobs/{job_id}/status   Running | Completed | Failed (+ message,
///                                                   + steps[]: one job.step_recorded each);
///                                                   409 once the job is finished (a late
///                                                   report after the deployment timeout)
///   POST /api/v1/agents/{id}/discoveries            a filesystem scan (actors/workflows/
///                                                   discovery.hpp)
///
/// A retired agent gets 410 Gone from each, so it stops; an unknown one 404.

#include "gateways/http/router.hpp"
#include "gateways/rest/target_routes.hpp"

namespace certctl::gateways::rest {

void add_agent_job_routes(gateways::http::router& r, deployment_context& ctx);

}  // namespace certctl::gateways::rest
