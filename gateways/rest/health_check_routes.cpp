#include "gateways/rest/health_check_routes.hpp"

#include <algorithm>

#include "domain/rules.hpp"
#include "gateways/rest/command_support.hpp"
#include "gateways/rest/query_support.hpp"
#include "infra/crypto/random.hpp"
#include "projections/health_check_projection.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

const char* const statuses[] = {"Healthy", "Degraded", "Down", "CertMismatch"};

/// The configured minimum interval, the one rule of a body the entity leaves to the gateway.
std::optional<http::response> interval_refused(const health_check_context& ctx,
                                               const events::json_object& body) {
  if (!body.is_int("check_interval_seconds")) return std::nullopt;
  if (body.int64("check_interval_seconds") >= ctx.min_interval_seconds) return std::nullopt;
  return http::error_response(400, "field 'check_interval_seconds' must be at least " +
                                       std::to_string(ctx.min_interval_seconds));
}

/// An optional integer query parameter in [lo, hi]; nullopt with `err` set when malformed.
std::optional<std::int64_t> int_query(const http::request_context& c, const char* name,
                                      std::int64_t fallback, std::int64_t lo, std::int64_t hi,
                                      http::response& err) {
  const auto text = c.query(name);
  if (!text) return fallback;
  const bool digits =
      !text->empty() && text->size() <= 9 &&
      std::all_of(text->begin(), text->end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  const std::int64_t v = digits ? std::stoll(*text) : lo - 1;
  if (v < lo || v > hi) {
    err = http::error_response(400, std::string(name) + " must be between " + std::to_string(lo) +
                                        " and " + std::to_string(hi));
    return std::nullopt;
  }
  return v;
}

http::response list(health_check_context& ctx, const http::request_context& c) {
  http::response err;
  auto p = paging_of(c, err);
  if (!p) return err;
  projections::health_check_filter f;
  f.page = p->page;
  f.per_page = p->per_page;
  f.status = c.query("status").value_or("");
  f.certificate_id = c.query("certificate_id").value_or("");
  f.network_scan_target_id = c.query("network_scan_target_id").value_or("");
  if (!f.status.empty() &&
      std::find(std::begin(statuses), std::end(statuses), f.status) == std::end(statuses))
    return http::error_response(400, "status must be Healthy, Degraded, Down or CertMismatch");
  if (auto enabled = c.query("enabled")) {
    if (*enabled != "true" && *enabled != "false")
      return http::error_response(400, "enabled must be true or false");
    f.enabled = *enabled == "true";
  }
  return page_or_error(projections::list_health_checks(ctx.db, f));
}

http::response history(health_check_context& ctx, const http::request_context& c) {
  http::response err;
  auto limit =
      int_query(c, "limit", 100, 1, projections::health_check_projection::history_kept, err);
  if (!limit) return err;
  const std::string id = c.path_param("id");
  auto check = projections::get_health_check(ctx.db, id);
  if (!check) return error_response(check.error());
  if (!check->has_value()) return http::error_response(404, "health check " + id + " not found");
  auto page = projections::health_check_history(ctx.db, id, *limit);
  if (!page) return error_response(page.error());
  std::string body = "{\"data\":[";
  for (size_t i = 0; i < page->data.size(); ++i) body += (i ? "," : "") + page->data[i];
  body += "],\"total\":" + std::to_string(page->total) + "}";
  return http::json_response(body);
}

}  // namespace

void add_health_check_routes(http::router& r, health_check_context& ctx) {
  r.add("GET", "/api/v1/health-checks", role::viewer,
        [&ctx](http::request_context& c) { return list(ctx, c); });
  r.add("POST", "/api/v1/health-checks", role::operator_, [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    if (auto refused = interval_refused(ctx, *body)) return *refused;
    const std::string id = body->is_string("id") && domain::is_valid_id(body->str("id"))
                               ? body->str("id")
                               : "hc-" + crypto::random_hex(8);
    return render(
        ctx.runtime.execute("health_check", command_for(c, "health_check.create", id, *body)), 201);
  });
  r.add("GET", "/api/v1/health-checks/summary", role::viewer, [&ctx](http::request_context&) {
    auto summary = projections::health_check_summary_json(ctx.db);
    if (!summary) return error_response(summary.error());
    return http::json_response(*summary);
  });
  r.add("GET", "/api/v1/health-checks/{id}", role::viewer, [&ctx](http::request_context& c) {
    return doc_or_404(projections::get_health_check(ctx.db, c.path_param("id")),
                      "health check " + c.path_param("id"));
  });
  r.add("PUT", "/api/v1/health-checks/{id}", role::operator_, [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    if (auto refused = interval_refused(ctx, *body)) return *refused;
    return render(ctx.runtime.execute("health_check", command_for(c, "health_check.update",
                                                                  c.path_param("id"), *body)),
                  200);
  });
  r.add("DELETE", "/api/v1/health-checks/{id}", role::operator_, [&ctx](http::request_context& c) {
    auto res = ctx.runtime.execute("health_check",
                                   command_for(c, "health_check.delete", c.path_param("id"), {}));
    if (!res) return render(res, 204);
    http::response resp;
    resp.status = 204;
    resp.content_type.clear();
    if (res->position > 0) resp.with_header("X-Certctl-Position", std::to_string(res->position));
    return resp;
  });
  r.add("GET", "/api/v1/health-checks/{id}/history", role::viewer,
        [&ctx](http::request_context& c) { return history(ctx, c); });
  r.add("POST", "/api/v1/health-checks/{id}/acknowledge", role::operator_,
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          return render(
              ctx.runtime.execute("health_check", command_for(c, "health_check.acknowledge",
                                                              c.path_param("id"), *body)),
              200);
        });
}

}  // namespace certctl::gateways::rest
