#pragma once
/// The discovery read and triage API (issue 12), over the discovery read model
/// (projections/discovery_projection.hpp); findings arrive through the discovery pipeline
/// (actors/workflows/discovery.hpp), from agents via POST /api/v1/agents/{id}/discoveries.
///
///   GET  /api/v1/discovered-certificates          ?agent_id= &status= &page= &per_page=
///   GET  /api/v1/discovered-certificates/{id}
///   POST /api/v1/discovered-certificates/{id}/claim    {managed_certificate_id} -> Managed
///   POST /api/v1/discovered-certificates/{id}/dismiss  -> Dismissed
///   GET  /api/v1/discovery-scans                  ?agent_id= &page= &per_page=
///   GET  /api/v1/discovery-summary                {Unmanaged, Managed, Dismissed}

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct discovery_context {
  actors::entity_runtime& runtime;
  sql::database& db;
};

void add_discovery_routes(gateways::http::router& r, discovery_context& ctx);

}  // namespace certctl::gateways::rest
