#include "gateways/rest/metrics_routes.hpp"

#include <algorithm>

#include "actors/workflows/issuance_service.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/entity_queries.hpp"
#include "projections/notification_projection.hpp"

namespace certctl::gateways::rest {

namespace {

std::int64_t count_of(const std::map<std::string, std::int64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

/// Reads the state gauges from the read models. The lag is optional: a store hiccup should
/// not hide the certificate counts, which come from the read database.
result<infra::metrics_snapshot, infra::metrics_error> read_snapshot(metrics_context& ctx) {
  auto stats = projections::get_entity_stats(ctx.db, ctx.clock.now());
  if (!stats) return infra::metrics_error{"read models: " + stats.error().message};
  const auto& certs = stats->certificates_by_status;
  infra::metrics_snapshot s;
  s.certificate_total = stats->total_certificates;
  s.certificate_active = count_of(certs, "Active");
  s.certificate_expiring_soon = stats->expiring_within_window;
  s.certificate_expired = count_of(certs, "Expired");
  s.certificate_revoked = count_of(certs, "Revoked");
  s.agent_total = stats->total_agents;
  s.agent_online = count_of(stats->agents_by_status, "Online");
  s.jobs_by_status = stats->jobs_by_status;
  if (auto lag = ctx.projector.lag()) s.projection_lag_events = *lag;
  if (auto dead = projections::count_dead_notifications(ctx.db)) s.notifications_dead = *dead;
  if (ctx.node != nullptr) {
    const auto n = ctx.node->status();
    infra::metrics_snapshot::cluster_state c;
    c.joined = n.joined;
    c.owned_partitions = static_cast<std::int64_t>(n.owned.size());
    for (const auto& l : n.lag) c.command_lag += std::max<std::int64_t>(l.lag(), 0);
    c.forwarded = n.forwarded;
    c.received = n.received;
    c.rejected = n.rejected;
    s.cluster = c;
  }
  return s;
}

http::response prometheus_text(metrics_context& ctx) {
  http::response resp;
  resp.content_type = infra::prometheus_content_type;
  resp.body = ctx.metrics.render_prometheus();
  return resp;
}

}  // namespace

std::string metrics_response_json(const infra::metrics_snapshot& s, events::timestamp_us started,
                                  events::timestamp_us now) {
  const auto& jobs = s.jobs_by_status;
  events::json_object gauge;
  gauge.set("certificate_total", s.certificate_total)
      .set("certificate_active", s.certificate_active)
      .set("certificate_expiring_soon", s.certificate_expiring_soon)
      .set("certificate_expired", s.certificate_expired)
      .set("certificate_revoked", s.certificate_revoked)
      .set("agent_total", s.agent_total)
      .set("agent_online", s.agent_online)
      // Same definition as the dashboard's pending_jobs: work not yet started.
      .set("job_pending", count_of(jobs, "Pending") + count_of(jobs, "AwaitingCSR") +
                              count_of(jobs, "AwaitingApproval"));
  // The spec calls these counters: finished jobs stay in their terminal status, so these
  // read-model counts behave like counters.
  events::json_object counter;
  counter.set("job_completed_total", count_of(jobs, "Completed"))
      .set("job_failed_total", count_of(jobs, "Failed"));
  events::json_object uptime;
  uptime.set("uptime_seconds", std::max<std::int64_t>(0, (now - started) / 1000000))
      .set("server_started", events::format_rfc3339(started))
      .set("measured_at", events::format_rfc3339(now));
  events::json_object out;
  out.set_raw("gauge", gauge.dump())
      .set_raw("counter", counter.dump())
      .set_raw("uptime", uptime.dump());
  return out.dump();
}

void add_metrics_routes(http::router& r, metrics_context& ctx) {
  ctx.metrics.set_snapshot_source([&ctx] { return read_snapshot(ctx); });
  r.add("GET", "/api/v1/metrics", http::role::viewer, [&ctx](http::request_context&) {
    auto snap = ctx.metrics.refresh();
    if (!snap) return http::error_response(500, "metrics: " + snap.error().message);
    return http::json_response(
        metrics_response_json(*snap, ctx.metrics.started_at(), ctx.clock.now()));
  });
  r.add("GET", "/api/v1/metrics/prometheus", http::role::viewer,
        [&ctx](http::request_context&) { return prometheus_text(ctx); });
  r.add("GET", "/metrics", http::role::viewer,
        [&ctx](http::request_context&) { return prometheus_text(ctx); });
}

void observe_event_store(store::store_options& options, infra::metrics& m) {
  options.on_batch_committed = [&m](size_t n, std::chrono::microseconds d) {
    m.observe_store_batch(n, d);
  };
  options.on_append_completed = [&m](std::chrono::microseconds d) { m.observe_store_append(d); };
}

void observe_http_requests(http::router_options& options, infra::metrics& m) {
  options.on_request = [&m,
                        next = std::move(options.on_request)](const http::request_log_entry& e) {
    m.observe_http_request(e.method, e.status, e.duration);
    if (next) next(e);
  };
}

void observe_auth_failures(http::router_options& options, infra::metrics& m) {
  options.on_auth_failure = [&m,
                             next = std::move(options.on_auth_failure)](const http::auth_event& e) {
    m.observe_auth_failure(std::string(http::to_string(e.reason)));
    if (next) next(e);
  };
}

void observe_issuance(actors::issuance_service& service, infra::metrics& m) {
  service.set_observer([&m](const std::string& issuer_type, bool success, double seconds) {
    m.observe_issuance(issuer_type, success, seconds);
  });
}

}  // namespace certctl::gateways::rest
