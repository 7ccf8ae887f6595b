#pragma once
/// Routes that exercise a connector or serve an agent rather than read a plain read model, and
/// the issuer config edge of the generic issuer routes:
///
///   POST /api/v1/issuers/{id}/test                     is the issuer's connector usable?
///   GET  /api/v1/agents/{id}/certificates/{cert_id}    an agent picks up its signed certificate
///   POST/PUT /api/v1/issuers[/{id}]                    (write_routes, through issuer_config_hook)

#include "actors/runtime/entity_runtime.hpp"
#include "connectors/config_service.hpp"
#include "gateways/http/router.hpp"
#include "gateways/rest/write_routes.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

struct connector_context {
  /// Issuers are looked up on their entity, so a just-created one can be tested at once.
  actors::entity_runtime& runtime;
  sql::database& db;
  /// Registered issuer connectors, their schemas and the master key that seals secrets.
  const connectors::config_service& configs;
};

void add_connector_routes(gateways::http::router& r, connector_context& ctx);

/// The "issuer" hook of write_routes: on create and update, the type must have a registered
/// connector and the config must fit its schema (400 naming the field otherwise); secret fields
/// are sealed before the command is built, so no clear secret reaches an event; the view a
/// write answers with shows secrets redacted. `configs` and `runtime` must outlive the routes.
resource_hook issuer_config_hook(const connectors::config_service& configs,
                                 actors::entity_runtime& runtime);

/// The body of a read-model answer about issuers, with every sealed value redacted.
void redact_issuer_response(gateways::http::response& r);

}  // namespace certctl::gateways::rest
