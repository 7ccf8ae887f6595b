#pragma once
/// REST routes that change state: each builds a command, sends it to the entity runtime and
/// renders the entity's new state with the committed position (X-Certctl-Position).

#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "actors/workflows/renewal.hpp"
#include "gateways/http/router.hpp"

namespace certctl::gateways::rest {

struct write_context {
  actors::entity_runtime& runtime;
  actors::issuance_service& issuance;
  /// Set in server keygen mode (hands jobs to `issuance`); empty: jobs await an agent's CSR.
  actors::issuance_handoff handoff;
};

void add_write_routes(gateways::http::router& r, write_context& ctx);

}  // namespace certctl::gateways::rest
