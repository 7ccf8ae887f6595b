// The registry renders the series dashboards and alerts query, with the labels they group by.
#include <boost/test/unit_test.hpp>

#include "infra/metrics/metrics.hpp"

using namespace certctl;
using infra::metrics;
using infra::metrics_error;
using infra::metrics_snapshot;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

metrics_snapshot sample() {
  metrics_snapshot s;
  s.certificate_total = 12;
  s.certificate_active = 7;
  s.certificate_expiring_soon = 3;
  s.certificate_expired = 1;
  s.certificate_revoked = 2;
  s.agent_total = 4;
  s.agent_online = 3;
  s.jobs_by_status = {{"Pending", 5}, {"Completed", 9}};
  s.projection_lag_events = 17;
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_registry)

BOOST_AUTO_TEST_CASE(state_gauges_come_from_the_snapshot_source_at_scrape_time) {
  infra::manual_clock clock(t0);
  metrics m(clock, "0.1.0");
  int calls = 0;
  m.set_snapshot_source([&]() -> result<metrics_snapshot, metrics_error> {
    ++calls;
    return sample();
  });
  clock.advance(std::chrono::seconds(90));
  const std::string text = m.render_prometheus();
  BOOST_TEST(calls == 1);
  BOOST_TEST(has_line(text, "certctl_certificate_total 12"));
  BOOST_TEST(has_line(text, "certctl_certificate_active 7"));
  BOOST_TEST(has_line(text, "certctl_certificate_expiring_soon 3"));
  BOOST_TEST(has_line(text, "certctl_certificate_expired 1"));
  BOOST_TEST(has_line(text, "certctl_certificate_revoked 2"));
  BOOST_TEST(has_line(text, "certctl_agent_total 4"));
  BOOST_TEST(has_line(text, "certctl_agent_online 3"));
  BOOST_TEST(has_line(text, "certctl_projection_lag_events 17"));
  BOOST_TEST(has_line(text, "certctl_uptime_seconds 90"));
  BOOST_TEST(has_line(text, "certctl_stats_up 1"));
  BOOST_TEST(has_line(text, "certctl_build_info{version=\"0.1.0\"} 1"));
  BOOST_TEST(has_line(text, "# TYPE certctl_certificate_total gauge"));
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"Pending\"} 5"));
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"Completed\"} 9"));
  // Every known status is exported, at zero until a job has it.
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"Failed\"} 0"));
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"AwaitingCSR\"} 0"));
}

BOOST_AUTO_TEST_CASE(a_status_no_job_has_any_more_drops_to_zero) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  metrics_snapshot s = sample();
  s.jobs_by_status = {{"Running", 2}, {"SomethingNew", 1}};
  m.set_snapshot_source([&]() -> result<metrics_snapshot, metrics_error> { return s; });
  BOOST_TEST(has_line(m.render_prometheus(), "certctl_jobs{status=\"SomethingNew\"} 1"));
  s.jobs_by_status = {{"Completed", 2}};
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"Running\"} 0"));
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"SomethingNew\"} 0"));
  BOOST_TEST(has_line(text, "certctl_jobs{status=\"Completed\"} 2"));
}

BOOST_AUTO_TEST_CASE(cluster_series_appear_only_on_a_cluster_node) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  metrics_snapshot s = sample();
  m.set_snapshot_source([&]() -> result<metrics_snapshot, metrics_error> { return s; });
  BOOST_TEST(m.render_prometheus().find("certctl_cluster_") == std::string::npos);
  metrics_snapshot::cluster_state c;
  c.joined = true;
  c.owned_partitions = 4;
  c.command_lag = 2;
  c.forwarded = 812;
  c.received = 790;
  c.rejected = 1;
  s.cluster = c;
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "certctl_cluster_joined 1"));
  BOOST_TEST(has_line(text, "certctl_cluster_owned_partitions 4"));
  BOOST_TEST(has_line(text, "certctl_cluster_command_lag 2"));
  BOOST_TEST(has_line(text, "certctl_cluster_forwarded_commands 812"));
  BOOST_TEST(has_line(text, "certctl_cluster_received_commands 790"));
  BOOST_TEST(has_line(text, "certctl_cluster_rejected_commands 1"));
}

BOOST_AUTO_TEST_CASE(a_failing_source_keeps_the_last_values_and_reports_stats_down) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  bool fail = false;
  m.set_snapshot_source([&]() -> result<metrics_snapshot, metrics_error> {
    if (fail) return metrics_error{"database is gone"};
    return sample();
  });
  BOOST_TEST(m.refresh().ok());
  fail = true;
  auto r = m.refresh();
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "database is gone");
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "certctl_stats_up 0"));
  BOOST_TEST(has_line(text, "certctl_certificate_total 12"));
}

BOOST_AUTO_TEST_CASE(without_a_source_the_scrape_still_renders) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  BOOST_TEST(!m.refresh().ok());
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "certctl_stats_up 0"));
  BOOST_TEST(has_line(text, "certctl_certificate_total 0"));
}

BOOST_AUTO_TEST_CASE(issuance_is_counted_by_issuer_type_and_outcome) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  m.observe_issuance("GenericCA", true, 0.2);
  m.observe_issuance("GenericCA", true, 0.4);
  m.observe_issuance("ACME", false, 3.0);
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "# TYPE certctl_issuance_total counter"));
  BOOST_TEST(
      has_line(text, "certctl_issuance_total{issuer_type=\"GenericCA\",outcome=\"success\"} 2"));
  BOOST_TEST(has_line(text, "certctl_issuance_total{issuer_type=\"ACME\",outcome=\"failure\"} 1"));
  BOOST_TEST(has_line(text, "# TYPE certctl_issuance_duration_seconds histogram"));
  BOOST_TEST(has_line(text, "certctl_issuance_duration_seconds_count 3"));
  BOOST_TEST(has_line(text, "certctl_issuance_duration_seconds_sum 3.6"));
  BOOST_TEST(has_line(text, "certctl_issuance_duration_seconds_bucket{le=\"0.25\"} 1"));
  BOOST_TEST(has_line(text, "certctl_issuance_duration_seconds_bucket{le=\"+Inf\"} 3"));
}

BOOST_AUTO_TEST_CASE(vault_token_renewals_are_counted_by_result) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  m.observe_vault_token_renewal("success");
  m.observe_vault_token_renewal("success");
  m.observe_vault_token_renewal("not_renewable");
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "# TYPE certctl_vault_token_renewals_total counter"));
  BOOST_TEST(has_line(text, "certctl_vault_token_renewals_total{result=\"success\"} 2"));
  BOOST_TEST(has_line(text, "certctl_vault_token_renewals_total{result=\"not_renewable\"} 1"));
}

BOOST_AUTO_TEST_CASE(store_batches_and_appends_land_in_their_histograms) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  m.observe_store_batch(1, std::chrono::microseconds(300));
  m.observe_store_batch(40, std::chrono::microseconds(2000));
  m.observe_store_append(std::chrono::microseconds(50));
  m.observe_store_append(std::chrono::microseconds(5000));
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "certctl_event_store_batch_size_count 2"));
  BOOST_TEST(has_line(text, "certctl_event_store_batch_size_sum 41"));
  BOOST_TEST(has_line(text, "certctl_event_store_batch_size_bucket{le=\"1\"} 1"));
  BOOST_TEST(has_line(text, "certctl_event_store_batch_size_bucket{le=\"64\"} 2"));
  BOOST_TEST(has_line(text, "certctl_event_store_commit_seconds_count 2"));
  BOOST_TEST(has_line(text, "certctl_event_store_append_seconds_count 2"));
  BOOST_TEST(has_line(text, "certctl_event_store_append_seconds_bucket{le=\"0.0001\"} 1"));
  BOOST_TEST(has_line(text, "certctl_event_store_append_seconds_bucket{le=\"0.005\"} 2"));
}

BOOST_AUTO_TEST_CASE(http_requests_are_counted_by_method_and_status_without_the_path) {
  infra::manual_clock clock(t0);
  metrics m(clock);
  m.observe_http_request("GET", 200, std::chrono::milliseconds(3));
  m.observe_http_request("GET", 200, std::chrono::milliseconds(7));
  m.observe_http_request("POST", 401, std::chrono::microseconds(200));
  const std::string text = m.render_prometheus();
  BOOST_TEST(has_line(text, "certctl_http_requests_total{method=\"GET\",status=\"200\"} 2"));
  BOOST_TEST(has_line(text, "certctl_http_requests_total{method=\"POST\",status=\"401\"} 1"));
  BOOST_TEST(has_line(text, "certctl_http_request_duration_seconds_count{method=\"GET\"} 2"));
  BOOST_TEST(has_line(
      text, "certctl_http_request_duration_seconds_bucket{method=\"POST\",le=\"0.001\"} 1"));
  BOOST_TEST(text.find("path=") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
