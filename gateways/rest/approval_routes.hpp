#pragma once
/// Issuance approvals (docs/governance.md): the requests (GET /api/v1/approvals, /{id}), their
/// decisions (POST /api/v1/approvals/{id}/approve|reject) and the job-centric equivalents
/// (POST /api/v1/jobs/{id}/approve|reject). Deciding is for operators and admins, and never for
/// the principal who requested the issuance (two-person integrity, enforced by the entity).

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/renewal.hpp"
#include "gateways/http/router.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct approval_context {
  actors::entity_runtime& runtime;
  sql::database& db;
  /// Releases approved server-keygen jobs to issuance; empty in agent keygen mode.
  actors::issuance_handoff handoff;
};

void add_approval_routes(gateways::http::router& r, approval_context& ctx);

}  // namespace certctl::gateways::rest
