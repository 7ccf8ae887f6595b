#include "gateways/rest/connector_routes.hpp"

#include "gateways/rest/command_support.hpp"

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

/// The object at `key` of `doc` ({} when absent or not an object).
events::json_object object_at(const events::json_object& doc, const char* key) {
  if (!doc.is_object(key)) return {};
  return events::json_object::parse(doc.raw(key)).value_or(events::json_object{});
}

http::response test_failure(const connectors::issuer_error& e) {
  switch (e.code) {
    case connectors::issuer_errc::invalid_request:
    case connectors::issuer_errc::unsupported:
    case connectors::issuer_errc::bad_csr:
    case connectors::issuer_errc::policy_violation:
      return http::error_response(400, e.message);
    case connectors::issuer_errc::unavailable:
    case connectors::issuer_errc::internal:
      break;
  }
  return http::error_response(500, "issuer test failed: " + e.message);
}

void add_issuer_test(http::router& r, connector_context& ctx) {
  // Operator, like other operational checks: it changes nothing (issuer edits stay admin).
  r.add("POST", "/api/v1/issuers/{id}/test", role::operator_, [&ctx](http::request_context& c) {
    const std::string id = c.path_param("id");
    auto issuer = ctx.runtime.read("issuer", id);  // the entity: sees an update at once
    if (!issuer) {
      const int status = issuer.error().code == domain::domain_errc::not_found ? 404 : 500;
      return http::error_response(status, issuer.error().message);
    }
    // The registered connector for the issuer's type, built from its stored config (schema
    // checked again, secrets opened); a type without one is a 400, never another CA instead.
    auto connector =
        ctx.configs.make_issuer(id, issuer->view.str("type"), object_at(issuer->view, "config"));
    if (!connector) return test_failure(connector.error());
    auto report = (*connector)->self_test();
    if (!report) return test_failure(report.error());
    events::json_object out;
    out.set("status", "success").set("message", report->message);
    if (report->ca_not_after_us > 0)
      out.set("ca_not_after", events::format_rfc3339(report->ca_not_after_us));
    return http::json_response(out.dump());
  });
}

void add_agent_pickup(http::router& r, connector_context& ctx) {
  // An agent operation: agent keys (and operators, as before agents had their own role).
  r.add("GET", "/api/v1/agents/{id}/certificates/{cert_id}", agent_operation(),
        [&ctx](http::request_context& c) {
          const std::string agent = c.path_param("id"), cert = c.path_param("cert_id");
          auto found = projections::get_resource(ctx.db, "agent", agent);
          if (!found) return http::error_response(500, found.error().message);
          if (!found->has_value())
            return http::error_response(404, "agent " + agent + " not found");
          auto v = projections::get_latest_certificate_version(ctx.db, cert);
          if (!v) return http::error_response(500, v.error().message);
          if (!v->has_value())
            return http::error_response(404, "certificate " + cert + " has no issued version");
          const auto& version = **v;
          events::json_object out;
          out.set("certificate_pem", version.pem_chain)  // leaf first, then its issuer chain
              .set("certificate_id", cert)
              .set("version_id", version.id)
              .set("serial_number", version.serial_number)
              .set("not_after", version.not_after);
          return http::json_response(out.dump());
        });
}

}  // namespace

void add_connector_routes(http::router& r, connector_context& ctx) {
  add_issuer_test(r, ctx);
  add_agent_pickup(r, ctx);
}

}  // namespace certctl::gateways::rest

namespace certctl::gateways::rest {

resource_hook issuer_config_hook(const connectors::config_service& configs,
                                 actors::entity_runtime& runtime) {
  resource_hook h;
  h.before = [&configs, &runtime](const http::request_context& c, const std::string& id,
                                  bool creating,
                                  events::json_object& body) -> std::optional<http::response> {
    // Null means absent, as in the domain. A body without a usable type or config is left to
    // the domain, which names the field.
    const bool has_type = body.has("type") && !body.is_null("type");
    const bool has_config = body.has("config") && !body.is_null("config");
    if ((has_type && !body.is_string("type")) || (has_config && !body.is_object("config")))
      return std::nullopt;
    std::string type = body.str("type");
    events::json_object config = object_at(body, "config");
    events::json_object previous;
    if (!creating) {
      // Nothing about the connector changes: disabling or renaming an issuer needs no check,
      // also for one whose type lost its connector.
      if (!has_type && !has_config) return std::nullopt;
      auto current = runtime.read("issuer", id);
      // Fail closed: without the stored config the body cannot be sealed, so it is not sent.
      if (!current) return render(current, 200);
      if (!has_type) type = current->view.str("type");
      previous = object_at(current->view, "config");
      if (!has_config) config = previous;
    } else if (!has_type) {
      return std::nullopt;
    }
    auto stored = configs.prepare(connectors::connector_kind::issuer, type, id, config,
                                  creating ? nullptr : &previous);
    if (!stored) return http::error_response(400, stored.error().message);
    // Build the connector once, offline (no connector calls its CA when made): a config the
    // schema accepts but the connector cannot use (a script path others may write, a root
    // file that does not match its fingerprint) is refused now, not at the first issuance.
    if (auto made = configs.make_issuer(id, type, *stored);
        !made && made.error().code == connectors::issuer_errc::invalid_request)
      return http::error_response(400, made.error().message);
    body.set_raw("config", stored->dump());
    return std::nullopt;
  };
  h.present = [&configs](events::json_object& view) {
    if (!view.is_object("config")) return;
    auto shown = configs.redact(connectors::connector_kind::issuer, view.str("type"),
                                object_at(view, "config"));
    view.set_raw("config", shown.dump());
  };
  return h;
}

void redact_issuer_response(http::response& r) {
  r.body = connectors::redact_sealed_values(r.body);
}

}  // namespace certctl::gateways::rest
