#pragma once
/// Endpoint health checks (docs/health-checks.md; the reference's Health Monitoring
/// operations): GET/POST /api/v1/health-checks, GET /api/v1/health-checks/summary,
/// GET/PUT/DELETE /api/v1/health-checks/{id}, GET /api/v1/health-checks/{id}/history and
/// POST /api/v1/health-checks/{id}/acknowledge. Writes are commands on the health_check entity;
/// reads come from projections/health_check_projection. The probes themselves run in
/// actors/schedulers/health_probe.

#include <cstdint>

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct health_check_context {
  actors::entity_runtime& runtime;
  sql::database& db;
  /// The shortest check_interval_seconds accepted (the API's 30; tests lower it).
  std::int64_t min_interval_seconds = 30;
};

void add_health_check_routes(gateways::http::router& r, health_check_context& ctx);

}  // namespace certctl::gateways::rest
