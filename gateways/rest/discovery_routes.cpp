#include "gateways/rest/discovery_routes.hpp"

#include "events/json.hpp"
#include "gateways/http/pagination.hpp"
#include "gateways/rest/command_support.hpp"
#include "gateways/rest/query_support.hpp"
#include "projections/discovery_projection.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

/// The triage commands answer StatusMessageResponse, with the position of what they wrote.
http::response triage_answer(const actors::command_result& res, const std::string& message) {
  if (!res) return render(res, 200);
  events::json_object out;
  out.set("status", res->view.str("status")).set("message", message);
  auto resp = http::json_response(out.dump(), 200);
  if (res->position > 0) resp.with_header("X-Certctl-Position", std::to_string(res->position));
  return resp;
}

void add_reads(http::router& r, discovery_context& ctx) {
  r.add("GET", "/api/v1/discovered-certificates", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    projections::discovered_filter f;
    f.page = p->page;
    f.per_page = p->per_page;
    f.agent_id = c.query("agent_id");
    f.status = c.query("status");
    return page_or_error(projections::list_discovered_certificates(ctx.db, f));
  });
  r.add("GET", "/api/v1/discovered-certificates/{id}", role::viewer,
        [&ctx](http::request_context& c) {
          auto doc = projections::get_discovered_certificate(ctx.db, c.path_param("id"));
          if (!doc) return error_response(doc.error());
          if (!doc->has_value())
            return http::error_response(
                404, "discovered certificate " + c.path_param("id") + " not found");
          return http::json_response(**doc);
        });
  r.add("GET", "/api/v1/discovery-scans", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    return page_or_error(
        projections::list_discovery_scans(ctx.db, c.query("agent_id"), p->page, p->per_page));
  });
  r.add("GET", "/api/v1/discovery-summary", role::viewer, [&ctx](http::request_context&) {
    auto counts = projections::discovery_summary(ctx.db);
    if (!counts) return error_response(counts.error());
    events::json_object out;
    for (const auto& [status, n] : *counts) out.set(status.c_str(), n);
    return http::json_response(out.dump());
  });
}

void add_triage(http::router& r, discovery_context& ctx) {
  r.add("POST", "/api/v1/discovered-certificates/{id}/claim", role::operator_,
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          if (!body->is_string("managed_certificate_id") ||
              body->str("managed_certificate_id").empty())
            return http::error_response(400, "field 'managed_certificate_id' is required");
          const std::string managed = body->str("managed_certificate_id");
          // The link must point at a certificate that exists (the entity: a just-created one
          // counts). Its id is checked here because the discovered entity cannot see others.
          auto cert = ctx.runtime.read("certificate", managed);
          if (!cert) {
            if (cert.error().code == domain::domain_errc::not_found)
              return http::error_response(400, "managed certificate " + managed + " not found");
            return render(cert, 200);
          }
          events::json_object b;
          b.set("managed_certificate_id", managed);
          return triage_answer(ctx.runtime.execute("discovered_certificate",
                                                   command_for(c, "discovered_certificate.claim",
                                                               c.path_param("id"), b)),
                               "linked to managed certificate " + managed);
        });
  r.add("POST", "/api/v1/discovered-certificates/{id}/dismiss", role::operator_,
        [&ctx](http::request_context& c) {
          return triage_answer(ctx.runtime.execute("discovered_certificate",
                                                   command_for(c, "discovered_certificate.dismiss",
                                                               c.path_param("id"), {})),
                               "dismissed");
        });
}

}  // namespace

void add_discovery_routes(http::router& r, discovery_context& ctx) {
  add_reads(r, ctx);
  add_triage(r, ctx);
}

}  // namespace certctl::gateways::rest
