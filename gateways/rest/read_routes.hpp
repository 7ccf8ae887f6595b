#pragma once
/// REST routes that read projections (never the entities or the log), plus the audit hook
/// for failed authentication.

#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/store/event_store.hpp"
#include "projections/projector.hpp"
#include "infra/sql/database.hpp"

namespace certctl::crypto {
class key_store;
}

namespace certctl::gateways::rest {

struct read_context {
  sql::database& db;
  projections::projector& projector;
  crypto::key_store& keys;
  const infra::clock& clock;
};

/// Adds every read model the routes below query.
void register_read_projections(projections::projector& p);

void add_read_routes(gateways::http::router& r, read_context& ctx);

/// Records a failed or denied request in the log (stream "security-auth"), so the audit trail
/// shows who tried what from where. Never blocks the request on the database.
void record_auth_failure(store::event_store& store, const gateways::http::auth_event& e);

}  // namespace certctl::gateways::rest
