#include "gateways/acme/acme_routes.hpp"

#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::acme {

std::unique_ptr<gateways::acme::acme_server> add_acme_routes(gateways::http::router& r,
                                                             const acme_context& ctx) {
  const auto& cfg = ctx.config;
  if (!cfg.acme_server_enabled) return nullptr;
  gateways::acme::acme_options opt;
  opt.base_url = ctx.public_url;
  opt.default_profile_id = cfg.acme_server_default_profile_id;
  opt.auth_mode = cfg.acme_server_auth_mode;
  opt.orders_per_hour = cfg.acme_server_orders_per_hour;
  opt.eab_required = cfg.acme_server_eab_required;
  opt.nonce_ttl = std::chrono::seconds(cfg.acme_server_nonce_ttl_seconds);
  opt.nonce_secret = ctx.nonce_secret;
  opt.http01_host = cfg.acme_server_http01_host;
  opt.http01_port = cfg.acme_server_http01_port;
  opt.pending_orders_max = cfg.acme_server_pending_orders_max;
  opt.dns_resolver = cfg.acme_server_dns_resolver;
  opt.tlsalpn01_host = cfg.acme_server_tlsalpn01_host;
  opt.tlsalpn01_port = cfg.acme_server_tlsalpn01_port;
  opt.validation_timeout = std::chrono::seconds(cfg.acme_server_validation_timeout_seconds);
  opt.outbound = net::outbound_guard(cfg.outbound_allow_cidrs);
  opt.website = ctx.public_url;
  opt.cache_accounts = !cfg.cluster_enabled;

  auto* store = &ctx.store;
  auto* db = &ctx.db;
  auto* issuance = &ctx.issuance;
  gateways::acme::acme_dependencies deps{ctx.runtime, {}, {}, {}, {}, {}, {}};
  deps.secrets = &ctx.keys;
  deps.nonce_record = ctx.nonce_record;
  deps.issue = [issuance](actors::issuance_task t, std::function<void()> on_finished) {
    issuance->enqueue(std::move(t), std::move(on_finished));
  };
  // From the log itself, not a read model: the order poll that follows issuance must see it.
  deps.issued =
      [store](const std::string& id) -> std::optional<gateways::acme::issued_certificate> {
    auto stream = store->read_stream("certificate-" + id);
    if (!stream) return std::nullopt;
    for (auto it = stream->rbegin(); it != stream->rend(); ++it) {
      if (it->type != "certificate.issued") continue;
      auto p = events::json_object::parse(it->payload);
      if (!p) return std::nullopt;
      return gateways::acme::issued_certificate{p->str("pem_chain"), p->str("serial_number")};
    }
    return std::nullopt;
  };
  deps.certificate_by_serial = [db](const std::string& serial) -> std::optional<std::string> {
    auto found = projections::find_version_by_serial(*db, serial);
    if (!found || !found->has_value()) return std::nullopt;
    return (*found)->certificate_id;
  };
  deps.version_by_serial =
      [db](const std::string& serial) -> std::optional<gateways::acme::certificate_version> {
    auto found = projections::find_version_by_serial(*db, serial);
    if (!found || !found->has_value()) return std::nullopt;
    return gateways::acme::certificate_version{(*found)->certificate_id, (*found)->pem_chain};
  };
  deps.renewal_policy = [db](const std::string& id) -> std::optional<events::json_object> {
    auto doc = projections::get_resource(*db, "renewal_policy", id);
    if (!doc || !doc->has_value()) return std::nullopt;
    return events::json_object::parse(**doc);
  };
  deps.profile = [db](const std::string& id) -> std::optional<events::json_object> {
    auto doc = projections::get_resource(*db, "profile", id);
    if (!doc || !doc->has_value()) return std::nullopt;
    return events::json_object::parse(**doc);
  };
  auto server = std::make_unique<gateways::acme::acme_server>(std::move(opt), std::move(deps));
  server->add_routes(r);
  return server;
}

}  // namespace certctl::gateways::acme
