#pragma once
/// Wires the SCEP server (gateways/scep) into certctl-server: profiles from the configuration,
/// RA material (configured files, or an RA certificate the server issues from the profile's
/// issuer at start, its key kept in the key store), Intune validators, the lookups it needs
/// from this node's event store and read models, and the SCEP probe.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "gateways/http/router.hpp"
#include "gateways/scep/scep_probe.hpp"
#include "gateways/scep/scep_server.hpp"
#include "infra/config.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/scep_config.hpp"
#include "infra/sql/database.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::connectors {
class issuer;
}

namespace certctl::gateways::scep {

struct scep_context {
  store::event_store& store;
  sql::database& db;
  actors::entity_runtime& runtime;
  actors::issuance_service& issuance;
  crypto::key_store& keys;  ///< generated RA keys are sealed here ("scep-ra-<path id>")
  const infra::server_config& config;
  std::vector<infra::scep_profile_config> profiles;
  /// The issuer connector an issuer id names (nullptr + `error` when it cannot be used).
  std::function<connectors::issuer*(const std::string& issuer_id, std::string& error)> issuer_for;
  std::string data_dir;  ///< the probe's trust file is written here
  std::function<void(const std::string&)> log;
};

struct scep_gateway {
  std::unique_ptr<scep_server> server;  ///< nullptr when no SCEP profile is configured
  std::unique_ptr<scep_prober> prober;
};

/// Registers the SCEP routes (when profiles are configured), the admin routes and the probe
/// routes. Fails with a message naming the profile's variable when its RA material, issuer or
/// Intune trust file is unusable.
certctl::result<scep_gateway, std::string> add_scep_routes(http::router& r,
                                                           const scep_context& ctx);

}  // namespace certctl::gateways::scep
