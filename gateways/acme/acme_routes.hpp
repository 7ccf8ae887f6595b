#pragma once
/// Wires the ACME server gateway (gateways/acme) into certctl-server: its options from the
/// configuration, and the lookups it needs from this node's event store and read models.

#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "gateways/acme/acme_server.hpp"
#include "gateways/http/router.hpp"
#include "infra/config.hpp"
#include "infra/sql/database.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::gateways::acme {

struct acme_context {
  store::event_store& store;
  sql::database& db;
  actors::entity_runtime& runtime;
  actors::issuance_service& issuance;
  const infra::server_config& config;
  crypto::key_store& keys;  ///< EAB HMAC keys are sealed here
  std::string public_url;   ///< what clients reach this server at, e.g. https://127.0.0.1:8443
  /// Cluster mode: nonces any node can check (nonce_store.hpp); empty/null = per node.
  std::string nonce_secret = {};
  nonce_recorder nonce_record = nullptr;
};

/// Registers the /acme/ routes when CERTCTL_ACME_SERVER_ENABLED is set; returns the server,
/// which must outlive the router's use (nullptr when disabled).
std::unique_ptr<gateways::acme::acme_server> add_acme_routes(gateways::http::router& r,
                                                             const acme_context& ctx);

}  // namespace certctl::gateways::acme
