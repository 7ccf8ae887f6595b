#pragma once
/// The dashboard chart routes (GET /api/v1/stats/certificates-by-status, /expiration-timeline,
/// /job-trends, /issuance-rate), computed from the read models at request time. The summary
/// (/api/v1/stats/summary) stays with the other reads in read_routes.

#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct stats_context {
  sql::database& db;
  const infra::clock& clock;
};

void add_stats_routes(gateways::http::router& r, stats_context& ctx);

}  // namespace certctl::gateways::rest
