#pragma once
/// Intermediate CAs (tree mode), admin only:
///   POST /api/v1/issuers/{id}/intermediates   sign a child CA under the issuer's root or one
///                                             of its intermediates (201, the IntermediateCA)
///   GET  /api/v1/issuers/{id}/intermediates   {"data": [root row, intermediates by created_at]}
///   GET  /api/v1/intermediates/{id}           one row (the root's id gives the root row)
///   POST /api/v1/intermediates/{id}/retire    {"confirm": bool, "note": string}: two-phase
///
/// Create runs: parent.child_add (409 if the parent is not active; the parent entity
/// serialises this against its own retirement) -> sign (constraints checked fail-closed, key
/// into the key store) -> intermediate.create. A failure after child_add releases the slot
/// again (child_remove) and drops the stored key. Retire to "retired" tells the parent
/// (child_remove), also when repeated, so a crash in between heals on the next call.
///
/// Only the local CA ("iss-local") has a hierarchy: it is the one issuer whose key this
/// server holds. Root registration (root_cert_pem + key_driver_id) answers 400.

#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "connectors/issuers/local/hierarchy.hpp"
#include "gateways/http/router.hpp"
#include "projections/projector.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct intermediate_context {
  actors::entity_runtime& runtime;
  sql::database& db;
  connectors::ca_hierarchy& hierarchy;
};


void add_intermediate_routes(gateways::http::router& r, intermediate_context& ctx);

}  // namespace certctl::gateways::rest
