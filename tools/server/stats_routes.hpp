#pragma once
/// The dashboard chart routes (GET /api/v1/stats/certificates-by-status, /expiration-timeline,
/// /job-trends, /issuance-rate), computed from the read models at request time. The summary
/// (/api/v1/stats/summary) stays with the other reads in read_routes.

#include "gateways/rest/router.hpp"
#include "infra/clock.hpp"
#include "projections/read_db.hpp"

namespace certctl::server {

struct stats_context {
  projections::read_db& db;
  const infra::clock& clock;
};

void add_stats_routes(gateways::rest::router& r, stats_context& ctx);

}  // namespace certctl::server
