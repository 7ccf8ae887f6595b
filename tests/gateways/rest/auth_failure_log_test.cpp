// Auth failures: one audit event per principal and window (not one per request), and a
// Prometheus counter by reason.

#include <boost/test/unit_test.hpp>

#include "events/json.hpp"
#include "gateways/rest/auth_failure_log.hpp"
#include "gateways/rest/metrics_routes.hpp"
#include "infra/metrics/metrics.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;
namespace http = gateways::http;
using gateways::rest::auth_failure_log;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;

struct log_fixture {
  infra::manual_clock clock{t0};
  std::unique_ptr<store::event_store> store = store::make_memory_store();
  auth_failure_log log{*store, clock, {std::chrono::seconds(60), 3}};

  static http::auth_event failure(
      std::string who, std::string addr,
      http::auth_failure reason = http::auth_failure::invalid_credentials,
      std::string path = "/api/v1/certificates") {
    return http::auth_event{std::move(who),  std::move(addr), "GET",
                            std::move(path), reason,          "req-1"};
  }

  /// The auth.denied events, after every queued append has landed (appends are asynchronous;
  /// the store answers in order, so a synchronous append behind them waits for them).
  std::vector<events::recorded_event> denied() {
    store::append_request marker;
    marker.stream_id = "test-marker";
    events::proposed_event e;
    e.type = "test.marker";
    e.payload = "{}";
    marker.events.push_back(e);
    BOOST_REQUIRE(store->append(marker).ok());
    auto events = store->read_stream("security-auth");
    BOOST_REQUIRE(events.ok());
    return *events;
  }

  static events::json_object payload(const events::recorded_event& e) {
    auto p = events::json_object::parse(e.payload);
    BOOST_REQUIRE(p.has_value());
    return *p;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(the_first_failure_is_recorded_at_once_and_the_rest_of_the_window_once,
                        log_fixture) {
  log.record(failure("", "10.0.0.7"));
  auto first = denied();
  BOOST_REQUIRE(first.size() == 1u);
  BOOST_TEST(first[0].principal == "anonymous");
  BOOST_TEST(first[0].source_address == "10.0.0.7");
  BOOST_TEST(payload(first[0]).int64("count") == 1);
  BOOST_TEST(payload(first[0]).str("reason") == "invalid_credentials");

  for (int i = 0; i < 499; ++i) {
    clock.advance(std::chrono::milliseconds(100));
    log.record(failure(
        "", "10.0.0.7",
        i % 2 ? http::auth_failure::missing_credentials : http::auth_failure::invalid_credentials));
  }
  log.flush_expired();
  BOOST_TEST(denied().size() == 1u);  // 49.9 s in: the window is still open

  clock.advance(std::chrono::seconds(11));
  log.flush_expired();
  auto all = denied();
  BOOST_REQUIRE(all.size() == 2u);
  const auto summary = payload(all[1]);
  BOOST_TEST(summary.boolean("aggregated"));
  BOOST_TEST(summary.int64("count") == 499);
  // Every auth.denied carries method, path and reason (here the latest failure's).
  BOOST_TEST(summary.str("reason") == "invalid_credentials");
  BOOST_TEST(summary.str("path") == "/api/v1/certificates");
  BOOST_TEST(all[1].principal == "anonymous");
  BOOST_TEST(all[1].source_address == "10.0.0.7");
  auto reasons = events::json_object::parse(summary.raw("reasons"));
  BOOST_REQUIRE(reasons.has_value());
  BOOST_TEST(reasons->int64("invalid_credentials") == 250);
  BOOST_TEST(reasons->int64("missing_credentials") == 249);
  BOOST_TEST(log.open_windows() == 0u);

  // The next failure opens a new window and is recorded at once again.
  log.record(failure("", "10.0.0.7"));
  BOOST_TEST(denied().size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_window_with_a_single_failure_closes_without_a_summary, log_fixture) {
  log.record(failure("", "10.0.0.8"));
  clock.advance(std::chrono::seconds(61));
  log.flush_expired();
  BOOST_TEST(log.open_windows() == 0u);
  BOOST_TEST(denied().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(principals_and_addresses_get_windows_of_their_own, log_fixture) {
  log.record(failure("", "10.0.0.1"));
  log.record(failure("", "10.0.0.2"));
  log.record(
      failure("viewer-key", "10.0.0.1", http::auth_failure::insufficient_role, "/api/v1/teams"));
  log.record(failure("viewer-key", "10.0.0.1", http::auth_failure::insufficient_role));
  auto first = denied();
  BOOST_REQUIRE(first.size() == 3u);
  BOOST_TEST(first[2].principal == "apikey:viewer-key");
  BOOST_TEST(payload(first[2]).str("path") == "/api/v1/teams");
  log.flush_all();  // shutdown: open windows are summed up now
  auto all = denied();
  BOOST_REQUIRE(all.size() == 4u);
  BOOST_TEST(all[3].principal == "apikey:viewer-key");
  BOOST_TEST(payload(all[3]).int64("count") == 1);
}

BOOST_FIXTURE_TEST_CASE(beyond_the_open_window_cap_failures_share_one_overflow_window,
                        log_fixture) {
  // Cap 3 (fixture): three callers get windows, every further address shares "*".
  for (int i = 0; i < 10; ++i) log.record(failure("", "10.1.0." + std::to_string(i)));
  BOOST_TEST(log.open_windows() == 4u);
  auto events = denied();
  BOOST_REQUIRE(events.size() == 4u);
  BOOST_TEST(events[3].source_address == "*");
  log.flush_all();
  auto all = denied();
  BOOST_REQUIRE(all.size() == 5u);
  BOOST_TEST(payload(all[4]).int64("count") == 6);
}

BOOST_AUTO_TEST_CASE(auth_failures_are_counted_by_reason_in_prometheus) {
  infra::manual_clock clock(t0);
  infra::metrics m(clock, "test");
  http::router_options o;
  int audited = 0;
  o.on_auth_failure = [&audited](const http::auth_event&) { ++audited; };
  gateways::rest::observe_auth_failures(o, m);
  http::auth_event e;
  e.reason = http::auth_failure::invalid_credentials;
  o.on_auth_failure(e);
  o.on_auth_failure(e);
  e.reason = http::auth_failure::insufficient_role;
  o.on_auth_failure(e);
  BOOST_TEST(audited == 3);  // the audit hook set before still runs
  const std::string text = m.render_prometheus();
  BOOST_TEST(text.find("certctl_auth_failures_total{reason=\"invalid_credentials\"} 2") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("certctl_auth_failures_total{reason=\"insufficient_role\"} 1") !=
             std::string::npos);
}
