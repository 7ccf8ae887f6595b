// The three metrics routes over real read models: JSON per MetricsResponse, Prometheus text,
// viewer role required, and requests counted through the router's hook.
#include <boost/test/unit_test.hpp>

#include "actors/runtime/entity_runtime.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "gateways/rest/metrics_routes.hpp"
#include "infra/store/memory_store.hpp"
#include "projections/entity_projections.hpp"

using namespace certctl;
namespace rest = gateways::rest;
namespace http = gateways::http;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;

domain::command cmd(const std::string& name, const std::string& id, events::json_object body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = "apikey:test";
  return c;
}

http::raw_request get(const std::string& path, const std::string& token = "") {
  http::raw_request r;
  r.method = "GET";
  r.path = path;
  r.remote_addr = "127.0.0.1";
  if (!token.empty()) r.headers.emplace("Authorization", "Bearer " + token);
  return r;
}

/// Two certificates and one pending job, projected into a fresh read database.
struct fixture {
  fixture()
      : store(store::make_memory_store()),
        runtime(*store, clock),
        db(sql::database::open("memory:").value()),
        projector(*store, db),
        metrics(clock, "test") {
    BOOST_REQUIRE(projections::register_entity_projections(projector).ok());
    for (const char* id : {"mc-1", "mc-2"}) {
      events::json_object cert;
      cert.set("name", id)
          .set("common_name", std::string(id) + ".example.com")
          .set("renewal_policy_id", "rp-1")
          .set("issuer_id", "iss-local")
          .set("owner_id", "o-1")
          .set("team_id", "t-1");
      BOOST_REQUIRE(runtime.execute("certificate", cmd("certificate.create", id, cert)).ok());
    }
    events::json_object job;
    job.set("type", "Issuance").set("certificate_id", "mc-1").set("awaiting_csr", false);
    BOOST_REQUIRE(runtime.execute("job", cmd("job.create", "job-1", job)).ok());
    BOOST_REQUIRE(projector.catch_up().ok());
    clock.advance(std::chrono::seconds(42));
  }

  infra::manual_clock clock{t0};
  std::unique_ptr<store::event_store> store;
  actors::entity_runtime runtime;
  std::shared_ptr<sql::database> db;
  projections::projector projector;
  infra::metrics metrics;
  rest::metrics_context ctx{metrics, *db, projector, clock};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_routes)

BOOST_FIXTURE_TEST_CASE(the_json_snapshot_follows_the_metrics_response_schema, fixture) {
  http::router_options opts;
  opts.auth_enabled = false;
  http::router r(http::key_store{}, opts);
  rest::add_metrics_routes(r, ctx);
  BOOST_REQUIRE(!r.registration_error());
  auto resp = r.handle(get("/api/v1/metrics"));
  BOOST_REQUIRE(resp.status == 200);
  BOOST_TEST(resp.content_type == "application/json");
  auto body = events::json_object::parse(resp.body);
  BOOST_REQUIRE(body.has_value());
  auto gauge = events::json_object::parse(body->raw("gauge")).value();
  BOOST_TEST(gauge.int64("certificate_total") == 2);
  BOOST_TEST(gauge.int64("certificate_active") == 0);
  BOOST_TEST(gauge.int64("job_pending") == 1);
  BOOST_TEST(gauge.int64("agent_total") == 0);
  auto counter = events::json_object::parse(body->raw("counter")).value();
  BOOST_TEST(counter.int64("job_completed_total") == 0);
  BOOST_TEST(counter.int64("job_failed_total") == 0);
  auto uptime = events::json_object::parse(body->raw("uptime")).value();
  BOOST_TEST(uptime.int64("uptime_seconds") == 42);
  BOOST_TEST(uptime.str("server_started") == events::format_rfc3339(t0));
  BOOST_TEST(uptime.str("measured_at") == events::format_rfc3339(t0 + 42000000));
}

BOOST_FIXTURE_TEST_CASE(both_text_paths_serve_the_exposition_format, fixture) {
  http::router_options opts;
  opts.auth_enabled = false;
  http::router r(http::key_store{}, opts);
  rest::add_metrics_routes(r, ctx);
  for (const char* path : {"/api/v1/metrics/prometheus", "/metrics"}) {
    auto resp = r.handle(get(path));
    BOOST_REQUIRE(resp.status == 200);
    BOOST_TEST(resp.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
    BOOST_TEST(resp.body.find("\ncertctl_certificate_total 2\n") != std::string::npos);
    BOOST_TEST(resp.body.find("\ncertctl_jobs{status=\"Pending\"} 1\n") != std::string::npos);
    BOOST_TEST(resp.body.find("\ncertctl_projection_lag_events 0\n") != std::string::npos);
    BOOST_TEST(resp.body.find("\ncertctl_stats_up 1\n") != std::string::npos);
  }
}

BOOST_FIXTURE_TEST_CASE(scrapes_need_a_viewer_key_and_requests_are_counted, fixture) {
  http::router_options opts;
  rest::observe_http_requests(opts, metrics);
  auto keys =
      http::key_store::from_named_keys({{"prometheus", "scrape-token", http::role::viewer, {}}});
  http::router r(keys, opts);
  rest::add_metrics_routes(r, ctx);
  BOOST_TEST(r.handle(get("/metrics")).status == 401);
  auto ok = r.handle(get("/metrics", "scrape-token"));
  BOOST_REQUIRE(ok.status == 200);
  // The scrape renders before its own request is logged, so only the 401 is in this body.
  BOOST_TEST(ok.body.find("\ncertctl_http_requests_total{method=\"GET\",status=\"401\"} 1\n") !=
             std::string::npos);
  const std::string later = metrics.render_prometheus();
  BOOST_TEST(later.find("\ncertctl_http_requests_total{method=\"GET\",status=\"200\"} 1\n") !=
             std::string::npos);
  BOOST_TEST(later.find("\ncertctl_http_request_duration_seconds_count{method=\"GET\"} 2\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
