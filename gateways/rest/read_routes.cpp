#include "gateways/rest/read_routes.hpp"

#include "events/json.hpp"
#include "events/time.hpp"
#include "gateways/http/pagination.hpp"
#include "gateways/rest/command_support.hpp"
#include "gateways/rest/connector_routes.hpp"
#include "gateways/rest/query_support.hpp"
#include "infra/crypto/certificate.hpp"
#include "projections/audit_queries.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

void add_audit_routes(http::router& r, read_context& ctx) {
  r.add("GET", "/api/v1/audit", http::audit_readers(), [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    projections::audit_filter f;
    f.page = p->page;
    f.per_page = p->per_page;
    f.principal = c.query("actor");
    f.entity_kind = c.query("resource_type");
    f.entity_id = c.query("resource_id");
    f.event_type = c.query("action");
    for (auto [name, slot] :
         {std::pair<const char*, std::optional<events::timestamp_us>*>{"from", &f.from},
          {"to", &f.to}}) {
      if (auto v = c.query(name)) {
        auto t = events::parse_rfc3339(*v);
        if (!t)
          return http::error_response(
              400, std::string("query parameter '") + name + "' must be RFC 3339");
        *slot = *t;
      }
    }
    auto result = projections::list_audit_events(ctx.db, f);
    if (!result) return error_response(result.error(), "audit query failed");
    return http::json_response(projections::audit_page_json(*result));
  });
  r.add("GET", "/api/v1/audit/{id}", http::audit_readers(), [&ctx](http::request_context& c) {
    auto row = projections::get_audit_event(ctx.db, c.path_param("id"));
    if (!row) return error_response(row.error(), "audit query failed");
    if (!row->has_value())
      return http::error_response(404, "audit event " + c.path_param("id") + " not found");
    return http::json_response(projections::audit_event_json(**row));
  });
}

void add_certificate_reads(http::router& r, read_context& ctx) {
  r.add("GET", "/api/v1/certificates", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    projections::certificate_filter f;
    f.page = p->page;
    f.per_page = p->per_page;
    f.status = c.query("status");
    f.environment = c.query("environment");
    f.owner_id = c.query("owner_id");
    f.team_id = c.query("team_id");
    f.issuer_id = c.query("issuer_id");
    f.sort = c.query("sort");
    return page_or_error(projections::list_certificates(ctx.db, f));
  });
  r.add("GET", "/api/v1/certificates/{id}", role::viewer, [&ctx](http::request_context& c) {
    return doc_or_404(projections::get_certificate(ctx.db, c.path_param("id")),
                      "certificate " + c.path_param("id"));
  });
  r.add("GET", "/api/v1/certificates/{id}/versions", role::viewer,
        [&ctx](http::request_context& c) {
          http::response err;
          auto p = paging_of(c, err);
          if (!p) return err;
          auto exists = projections::get_certificate(ctx.db, c.path_param("id"));
          if (!exists || !exists->has_value())
            return doc_or_404(exists, "certificate " + c.path_param("id"));
          return page_or_error(projections::list_certificate_versions(ctx.db, c.path_param("id"),
                                                                      p->page, p->per_page));
        });
  r.add("GET", "/api/v1/certificates/{id}/export/pem", role::viewer,
        [&ctx](http::request_context& c) {
          auto v = projections::get_latest_certificate_version(ctx.db, c.path_param("id"));
          if (!v) return error_response(v.error());
          if (!v->has_value())
            return http::error_response(
                404, "certificate " + c.path_param("id") + " has no issued version");
          const std::string& full = (*v)->pem_chain;
          auto parts = crypto::split_pem_chain(full);
          std::string leaf = parts && !parts->empty() ? (*parts)[0] : full;
          std::string chain;
          if (parts)
            for (size_t i = 1; i < parts->size(); ++i) chain += (*parts)[i];
          if (c.query("download") == std::optional<std::string>("true")) {
            http::response resp;
            resp.content_type = "application/x-pem-file";
            resp.body = full;
            resp.with_header("Content-Disposition",
                             "attachment; filename=\"" + c.path_param("id") + ".pem\"");
            return resp;
          }
          events::json_object out;
          out.set("cert_pem", leaf).set("chain_pem", chain).set("full_pem", full);
          return http::json_response(out.dump());
        });
  // The PKCS#12 export carries a private key: key_export_routes, with its own permission.
}

void add_job_reads(http::router& r, read_context& ctx) {
  r.add("GET", "/api/v1/jobs", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    projections::job_filter f;
    f.page = p->page;
    f.per_page = p->per_page;
    f.status = c.query("status");
    f.type = c.query("type");
    f.certificate_id = c.query("certificate_id");
    return page_or_error(projections::list_jobs(ctx.db, f));
  });
  r.add("GET", "/api/v1/jobs/{id}", agent_operation(role::viewer),
        [&ctx](http::request_context& c) {
          return doc_or_404(projections::get_job(ctx.db, c.path_param("id")),
                            "job " + c.path_param("id"));
        });
}

void add_resource_reads(http::router& r, read_context& ctx) {
  static const std::pair<const char*, const char*> routes[] = {
      {"/api/v1/issuers", "issuer"},
      {"/api/v1/profiles", "profile"},
      {"/api/v1/renewal-policies", "renewal_policy"},
      {"/api/v1/teams", "team"},
      {"/api/v1/owners", "owner"},
      {"/api/v1/agents", "agent"},
      {"/api/v1/policies", "policy"},
      {"/api/v1/agent-groups", "agent_group"},
      {"/api/v1/network-scan-targets", "network_scan_target"},

      {"/api/v1/targets", "target"}};
  for (const auto& [path, kind_c] : routes) {
    const std::string kind = kind_c;
    r.add("GET", path, role::viewer, [&ctx, kind](http::request_context& c) {
      http::response err;
      auto p = paging_of(c, err);
      if (!p) return err;
      auto resp = page_or_error(projections::list_resources(ctx.db, kind, p->page, p->per_page));
      // Sealed secrets show as ********.
      if (kind == "issuer" || kind == "target") redact_issuer_response(resp);
      return resp;
    });
    r.add("GET", std::string(path) + "/{id}", role::viewer, [&ctx, kind](http::request_context& c) {
      auto resp = doc_or_404(projections::get_resource(ctx.db, kind, c.path_param("id")),
                             kind + " " + c.path_param("id"));
      if (kind == "issuer") redact_issuer_response(resp);
      return resp;
    });
  }
  r.add("GET", "/api/v1/agents/retired", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    return page_or_error(projections::list_retired_agents(ctx.db, p->page, p->per_page));
  });
  // GET /api/v1/agents/{id}/work: agent_job_routes (it opens target secrets for the agent).
  r.add("GET", "/api/v1/stats/summary", role::viewer, [&ctx](http::request_context&) {
    auto stats = projections::get_entity_stats(ctx.db, ctx.clock.now());
    if (!stats) return error_response(stats.error());
    return http::json_response(projections::dashboard_summary_json(*stats, ctx.clock.now()));
  });
}

}  // namespace

void add_read_routes(http::router& r, read_context& ctx) {
  add_audit_routes(r, ctx);
  add_certificate_reads(r, ctx);
  add_job_reads(r, ctx);
  add_resource_reads(r, ctx);
}

}  // namespace certctl::gateways::rest
