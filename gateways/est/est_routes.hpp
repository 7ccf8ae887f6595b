#pragma once
/// Wires the EST server (gateways/est) into certctl-server: its profiles from the
/// configuration, the lookups it needs from this node's log and read models, and the admin
/// routes: GET /api/v1/admin/est/profiles, POST /api/v1/admin/est/reload-trust and
/// POST /api/v1/est/certificates/bulk-revoke (all admin only).

#include <functional>
#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/issuer.hpp"
#include "gateways/est/est_server.hpp"
#include "gateways/http/router.hpp"
#include "infra/config.hpp"
#include "infra/sql/database.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::gateways::est {

struct est_context {
  store::event_store& store;
  sql::database& db;
  actors::entity_runtime& runtime;
  actors::issuance_service& issuance;
  const infra::server_config& config;
  /// The issuer a certificate without another issuer gets (the local CA): its chain is what
  /// cacerts distributes for it.
  connectors::issuer& default_issuer;
  /// Builds the connector of any other issuer (for its CA chain).
  const connectors::config_service& connector_configs;
  /// Failed EST authentications go to the audit trail through this (may be empty).
  std::function<void(const http::auth_event&)> on_auth_failure;
  std::function<void(const std::string&)> log;
};

/// Registers the EST routes when EST profiles are configured (and the admin routes always, so
/// an operator sees an empty profile list rather than a 404); returns the server, which must
/// outlive the router's use (nullptr when EST is off). An error names the bad profile.
certctl::result<std::unique_ptr<est_server>, std::string> add_est_routes(http::router& r,
                                                                         const est_context& ctx);

}  // namespace certctl::gateways::est
