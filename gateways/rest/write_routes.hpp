#pragma once
/// REST routes that change state: each builds a command, sends it to the entity runtime and
/// renders the entity's new state with the committed position (X-Certctl-Position).

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "actors/workflows/renewal.hpp"
#include "gateways/http/router.hpp"

namespace certctl::actors {
class policy_engine;
}

namespace certctl::gateways::rest {

/// A kind's own step around the generic create/update routes (issuers: config schema, sealed
/// secrets, redaction; see connector_routes.hpp).
struct resource_hook {
  /// Before the command: nullopt to send it with `body` (possibly rewritten), or the response
  /// to answer instead.
  std::function<std::optional<gateways::http::response>(const gateways::http::request_context& c,
                                                        const std::string& id, bool creating,
                                                        events::json_object& body)>
      before;
  /// On the entity's view before it is shown.
  std::function<void(events::json_object& view)> present;
};

struct write_context {
  actors::entity_runtime& runtime;
  actors::issuance_service& issuance;
  /// Set in server keygen mode (hands jobs to `issuance`); empty: jobs await an agent's CSR.
  actors::issuance_handoff handoff;
  /// By entity kind ("issuer"); kinds without one go straight to the runtime.
  std::map<std::string, resource_hook> hooks = {};
  /// The governance rules checked before a certificate is created (nullptr: none).
  actors::policy_engine* policies = nullptr;
  /// Told each certificate revoked here (id, request id) after the revocation is recorded:
  /// the CA revocation service tells the issuing CA (actors/workflows/ca_revocation.hpp).
  std::function<void(const std::string& certificate_id, const std::string& correlation_id)>
      after_revoke = {};
};

void add_write_routes(gateways::http::router& r, write_context& ctx);

}  // namespace certctl::gateways::rest
