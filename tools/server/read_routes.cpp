#include "tools/server/read_routes.hpp"

#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/audit_queries.hpp"

namespace certctl::server {
namespace rest = gateways::rest;
using rest::role;

// TODO(issue 3): register the entity read models (certificates, jobs, resources) here once
// their projections land, and serve their GET routes from them.
void register_read_projections(projections::projector&) {}

namespace {

std::optional<std::int64_t> int_param(const rest::request_context& c, const char* name, std::int64_t fallback,
                                      std::int64_t lo, std::int64_t hi, rest::response& err) {
  auto v = c.query(name);
  if (!v || v->empty()) return fallback;
  try {
    size_t used = 0;
    const auto n = std::stoll(*v, &used);
    if (used == v->size() && n >= lo) return std::min<std::int64_t>(n, hi);
  } catch (const std::exception&) {
  }
  err = rest::error_response(400, std::string("query parameter '") + name + "' must be an integer >= " + std::to_string(lo));
  return std::nullopt;
}

void add_audit_routes(rest::router& r, read_context& ctx) {
  r.add("GET", "/api/v1/audit", role::viewer, [&ctx](rest::request_context& c) {
    rest::response err;
    auto page = int_param(c, "page", 1, 1, 1000000, err);
    if (!page) return err;
    auto per_page = int_param(c, "per_page", 50, 1, 500, err);
    if (!per_page) return err;
    projections::audit_filter f;
    f.page = *page;
    f.per_page = *per_page;
    f.principal = c.query("actor");
    f.entity_kind = c.query("resource_type");
    f.entity_id = c.query("resource_id");
    f.event_type = c.query("action");
    for (auto [name, slot] : {std::pair<const char*, std::optional<events::timestamp_us>*>{"from", &f.from}, {"to", &f.to}}) {
      if (auto v = c.query(name)) {
        auto t = events::parse_rfc3339(*v);
        if (!t) return rest::error_response(400, std::string("query parameter '") + name + "' must be RFC 3339");
        *slot = *t;
      }
    }
    auto result = projections::list_audit_events(ctx.db, f);
    if (!result) return rest::error_response(500, "audit query failed: " + result.error().message);
    return rest::json_response(projections::audit_page_json(*result));
  });
  r.add("GET", "/api/v1/audit/{id}", role::viewer, [&ctx](rest::request_context& c) {
    auto row = projections::get_audit_event(ctx.db, c.path_param("id"));
    if (!row) return rest::error_response(500, "audit query failed: " + row.error().message);
    if (!row->has_value()) return rest::error_response(404, "audit event " + c.path_param("id") + " not found");
    return rest::json_response(projections::audit_event_json(**row));
  });
}

}  // namespace

void add_read_routes(rest::router& r, read_context& ctx) { add_audit_routes(r, ctx); }

void record_auth_failure(store::event_store& store, const rest::auth_event& e) {
  store::append_request req;
  req.stream_id = "security-auth";
  events::proposed_event pe;
  pe.type = "auth.denied";
  events::json_object p;
  p.set("method", e.method).set("path", e.path).set("reason", std::string(rest::to_string(e.reason)));
  pe.payload = p.dump();
  pe.principal = "anonymous";
  pe.source_address = e.remote_addr;
  pe.correlation_id = e.request_id;
  req.events.push_back(std::move(pe));
  store.append_async(std::move(req), [](store::store_result<store::append_result>) {});
}

}  // namespace certctl::server
