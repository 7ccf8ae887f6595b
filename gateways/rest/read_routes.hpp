#pragma once
/// REST routes that read projections (never the entities or the log), plus the audit hook
/// for failed authentication.

#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/sql/database.hpp"
#include "projections/projector.hpp"

namespace certctl::gateways::rest {

struct read_context {
  sql::database& db;
  projections::projector& projector;
  const infra::clock& clock;
};

void add_read_routes(gateways::http::router& r, read_context& ctx);

}  // namespace certctl::gateways::rest
