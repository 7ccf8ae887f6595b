#include "gateways/rest/stats_routes.hpp"

#include "gateways/rest/command_support.hpp"
#include "projections/stats_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

constexpr std::int64_t default_days = 30;

/// The `days` query parameter: default 30; 400 unless a whole number in 1..365 (the spec's
/// bounds, enforced rather than clamped so a client learns its chart is not what it asked).
std::optional<std::int64_t> days_of(const http::request_context& c, http::response& err) {
  auto v = c.query("days");
  if (!v || v->empty()) return default_days;
  std::int64_t n = 0;
  bool ok = v->size() <= 3;
  for (char ch : *v) {
    ok = ok && ch >= '0' && ch <= '9';
    if (ok) n = n * 10 + (ch - '0');
  }
  if (ok && n >= 1 && n <= projections::max_stats_days) return n;
  err = http::error_response(400, "query parameter 'days' must be an integer from 1 to " +
                                      std::to_string(projections::max_stats_days));
  return std::nullopt;
}

using series_query = sql::db_result<std::vector<projections::day_bucket>> (*)(
    sql::database&, events::timestamp_us, std::int64_t);
using series_render = std::string (*)(const std::vector<projections::day_bucket>&);

/// Registers one per-day series route.
void add_series(http::router& r, stats_context& ctx, const char* path, series_query query,
                series_render render) {
  r.add("GET", path, role::viewer, [&ctx, query, render](http::request_context& c) {
    http::response err;
    auto days = days_of(c, err);
    if (!days) return err;
    auto buckets = query(ctx.db, ctx.clock.now(), *days);
    if (!buckets) return error_response(buckets.error());
    return http::json_response(render(*buckets));
  });
}

std::string timeline_json(const std::vector<projections::day_bucket>& b) {
  return projections::day_counts_json("buckets", b);
}

std::string rate_json(const std::vector<projections::day_bucket>& b) {
  return projections::day_counts_json("rate", b);
}

}  // namespace

void add_stats_routes(http::router& r, stats_context& ctx) {
  r.add("GET", "/api/v1/stats/certificates-by-status", role::viewer,
        [&ctx](http::request_context&) {
          auto counts = projections::certificates_by_status(ctx.db);
          if (!counts) return error_response(counts.error());
          return http::json_response(projections::status_counts_json(*counts));
        });
  add_series(r, ctx, "/api/v1/stats/expiration-timeline", projections::expiration_timeline,
             timeline_json);
  add_series(r, ctx, "/api/v1/stats/job-trends", projections::job_trends,
             projections::job_trends_json);
  add_series(r, ctx, "/api/v1/stats/issuance-rate", projections::issuance_rate, rate_json);
}

}  // namespace certctl::gateways::rest
