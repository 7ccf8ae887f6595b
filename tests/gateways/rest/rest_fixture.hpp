#pragma once
/// The REST gateway in process: a runtime over a memory store, real read models kept current by
/// a running projector, and a router with the write, read, bulk and stats routes. Requests go
/// straight to router::handle (no sockets). Writes answer X-Certctl-Position; `read_after`
/// sends it back as X-Certctl-Wait-For-Position, so reads see the write without sleeping.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "connectors/issuers/issuer.hpp"
#include "events/json.hpp"
#include "gateways/http/router.hpp"
#include "gateways/rest/bulk_routes.hpp"
#include "gateways/rest/key_export_routes.hpp"
#include "gateways/rest/read_routes.hpp"
#include "gateways/rest/stats_routes.hpp"
#include "gateways/rest/write_routes.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/sql/database.hpp"
#include "infra/store/event_store.hpp"
#include "projections/projector.hpp"

namespace certctl::test {

/// Signs nothing: REST tests run in agent keygen mode, where no request reaches an issuer.
class idle_issuer final : public connectors::issuer {
 public:
  std::string_view type() const override { return "GenericCA"; }
  const std::string& id() const override { return id_; }
  certctl::result<connectors::issued_certificate, connectors::issuer_error> issue(
      const connectors::issuance_request&) override {
    return connectors::issuer_error{connectors::issuer_errc::unavailable, "idle test issuer"};
  }
  std::string ca_chain_pem() const override { return ""; }

 private:
  std::string id_ = "iss-local";
};

struct rest_fixture {
  rest_fixture();
  ~rest_fixture();

  /// A request as an API client sends it (auth is off: the caller is the anonymous admin).
  gateways::http::response send(const std::string& method, const std::string& path,
                                const std::string& body = "",
                                const gateways::http::header_map& headers = {});
  /// A GET that waits until `after`'s committed position is projected.
  gateways::http::response read_after(const gateways::http::response& after,
                                      const std::string& path);
  /// A GET that waits until everything appended so far is projected.
  gateways::http::response read(const std::string& path);

  /// Creates certificate `id` through the API (201), owned by o-1 / t-1.
  gateways::http::response create_certificate(const std::string& id);
  /// Records an issued version for `id` straight at the entity (as the issuance service would),
  /// so it can be revoked and renewed.
  void issue(const std::string& id);
  /// Events in the log.
  std::int64_t head() const;

  static std::optional<std::string> header(const gateways::http::response& r,
                                           const std::string& name);
  static events::json_object json(const gateways::http::response& r);

  std::filesystem::path dir;
  infra::manual_clock clock;
  std::unique_ptr<store::event_store> store;
  actors::entity_runtime runtime;
  std::shared_ptr<sql::database> db;
  projections::projector projector;
  crypto::key_store keys;
  idle_issuer issuer;
  actors::issuance_service issuance;
  gateways::rest::write_context writes;
  gateways::rest::read_context reads;
  gateways::rest::key_export_context key_exports;
  gateways::rest::bulk_context bulk;
  gateways::rest::stats_context stats;
  std::unique_ptr<gateways::http::router> router;
};

}  // namespace certctl::test
