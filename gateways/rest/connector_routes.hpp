#pragma once
/// Routes that exercise a connector or serve an agent rather than read a plain read model:
///
///   POST /api/v1/issuers/{id}/test                     is the issuer's connector usable?
///   GET  /api/v1/agents/{id}/certificates/{cert_id}    an agent picks up its signed certificate

#include "actors/runtime/entity_runtime.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "gateways/http/router.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct connector_context {
  /// Issuers are looked up on their entity, so a just-created one can be tested at once.
  actors::entity_runtime& runtime;
  sql::database& db;
  /// The built-in CA: the only issuer connector this server runs (type GenericCA, its id).
  connectors::local_ca& local_ca;
};

void add_connector_routes(gateways::http::router& r, connector_context& ctx);

}  // namespace certctl::gateways::rest
