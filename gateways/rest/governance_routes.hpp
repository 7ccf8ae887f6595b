#pragma once
/// Governance reads beyond the generic resource CRUD (policies and agent groups are resources,
/// see write_routes.cpp): a rule's violations and an agent group's members; and the hook that
/// validates an agent group's match rules at the edge.

#include "gateways/http/router.hpp"
#include "gateways/rest/write_routes.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct governance_context {
  sql::database& db;
};

/// GET /api/v1/policies/{id}/violations and GET /api/v1/agent-groups/{id}/members.
void add_governance_routes(gateways::http::router& r, governance_context& ctx);

/// Refuses an agent group whose match_ip_cidr is not a CIDR range.
resource_hook agent_group_hook();

/// Does `agent` (its API view) belong to `group` (its API view)? A disabled group has no
/// members; each match_* field set must match (OS and architecture case-insensitively, the
/// IP inside the CIDR, the version exactly or by prefix when the pattern ends in '*'); a
/// group without criteria holds every agent. Retired agents belong to no group.
bool agent_matches_group(const events::json_object& group, const events::json_object& agent);

}  // namespace certctl::gateways::rest
