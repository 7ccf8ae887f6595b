#include "gateways/rest/connector_routes.hpp"

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

/// Lifetime of the throwaway certificate a test signs: long enough to outlast clock skew,
/// short enough to be useless if it ever leaked (it is discarded at once).
constexpr std::int64_t test_certificate_ttl_us = 5LL * 60 * 1000000;
/// A name under .invalid (RFC 6761), which no relying party can ever resolve.
constexpr const char* test_certificate_host = "issuer-test.invalid";

/// Proves the local CA can sign now: a throwaway certificate covers the CA's validity window,
/// the key's availability and the signing path in one step. The certificate and its key are
/// dropped; nothing is recorded, so the test leaves no trace in the log or on the CRL.
http::response test_local_ca(connector_context& ctx) {
  auto issued =
      ctx.local_ca.issue_server_certificate({test_certificate_host}, test_certificate_ttl_us);
  if (!issued) return http::error_response(500, "local CA cannot issue: " + issued.error().message);
  auto ca = crypto::parse_certificate(ctx.local_ca.ca_certificate_pem());
  if (!ca) return http::error_response(500, "local CA certificate: " + ca.error().message);
  const std::string until = events::format_rfc3339(ca->not_after * 1000000);
  events::json_object out;
  out.set("status", "success")
      .set("message",
           "the local CA signed a test certificate; its certificate is valid until " + until)
      .set("ca_not_after", until);
  return http::json_response(out.dump());
}

void add_issuer_test(http::router& r, connector_context& ctx) {
  // Operator, like other operational checks: it changes nothing (issuer edits stay admin).
  r.add("POST", "/api/v1/issuers/{id}/test", role::operator_, [&ctx](http::request_context& c) {
    const std::string id = c.path_param("id");
    // An update without fields decides nothing and returns the issuer's current view.
    domain::command probe;
    probe.name = "issuer.update";
    probe.entity_id = id;
    probe.principal = c.who.name.empty() ? "anonymous" : "apikey:" + c.who.name;
    probe.correlation_id = c.request_id;
    auto issuer = ctx.runtime.execute("issuer", probe);
    if (!issuer) {
      const int status = issuer.error().code == domain::domain_errc::not_found ? 404 : 500;
      return http::error_response(status, issuer.error().message);
    }
    const std::string type = issuer->view.str("type");
    if (type == ctx.local_ca.type() && id == ctx.local_ca.id()) return test_local_ca(ctx);
    // Issuer entities of other types are configuration only until a connector for them is
    // built in; saying so is the honest test result.
    return http::error_response(400, "no " + (type.empty() ? std::string("issuer") : type) +
                                         " connector is configured for issuer " + id +
                                         " on this server");
  });
}

void add_agent_pickup(http::router& r, connector_context& ctx) {
  // Operator: agents authenticate with operator keys (CSR submission, work polling).
  r.add("GET", "/api/v1/agents/{id}/certificates/{cert_id}", role::operator_,
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
