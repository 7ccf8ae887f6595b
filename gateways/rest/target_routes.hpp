#pragma once
/// Deployment targets and deployments (issue 12):
///
///   POST/PUT /api/v1/targets[/{id}]            (write_routes, through target_config_hook)
///   POST /api/v1/targets/{id}/test             a Validation job for the target's agent
///   POST /api/v1/certificates/{id}/deploy      Deployment jobs, one per target
///   GET  /api/v1/certificates/{id}/deployments the targets this certificate was sent to
///
/// Jobs are created by actors/workflows/deployment.hpp; their outcome comes back from the agent
/// through POST /api/v1/agents/{id}/jobs/{job_id}/status (agent_job_routes.hpp).

#include "actors/runtime/entity_runtime.hpp"
#include "connectors/config_service.hpp"
#include "gateways/http/router.hpp"
#include "gateways/rest/write_routes.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

/// What the target, agent-work and job-status routes share.
struct deployment_context {
  actors::entity_runtime& runtime;
  sql::database& db;
  /// Registered target connectors, their schemas and the master key that seals secrets.
  const connectors::config_service& configs;
};

void add_target_routes(gateways::http::router& r, deployment_context& ctx);

/// The "target" hook of write_routes: the type must have a registered target connector and the
/// config must fit its schema (400 naming the field), the agent must be registered and not
/// retired (400), secret fields are sealed before the command is built, and every view shown
/// has them redacted. `configs` and `runtime` must outlive the routes.
resource_hook target_config_hook(const connectors::config_service& configs,
                                 actors::entity_runtime& runtime);

}  // namespace certctl::gateways::rest
