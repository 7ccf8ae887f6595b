// The endpoint health check aggregate as a specification: which probe outcomes move the status,
// that only a change of status is a transition, and that acknowledgements last until the next
// one.
#include <boost/test/unit_test.hpp>

#include "domain/health_check.hpp"
#include "events/time.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

namespace {

const std::string fp_a(64, 'a');
const std::string fp_b(64, 'b');
constexpr events::timestamp_us day_us = 86400LL * 1000000LL;

/// A successful probe body that observed `fp`, whose leaf expires `days` after `now`.
std::string ok_probe(const std::string& fp, events::timestamp_us now, std::int64_t days) {
  return R"({"ok":true,"checked_at":")" + events::format_rfc3339(now) +
         R"(","observed_fingerprint":")" + fp + R"(","cert_not_after":")" +
         events::format_rfc3339(now + days * day_us) + R"(","response_time_ms":12})";
}

std::string failed_probe(events::timestamp_us now) {
  return R"({"ok":false,"checked_at":")" + events::format_rfc3339(now) +
         R"(","failure_reason":"connect_failed: refused"})";
}

/// A check pinned to fp_a, Down after 2 failures, Degraded within 10 days of expiry.
scenario pinned_check() {
  scenario s("health_check", "hc-1");
  s.given_command("health_check.create",
                  R"({"endpoint":"127.0.0.1:56501","check_interval_seconds":60,
                      "expected_fingerprint":")" +
                      std::string(32, 'A') + ":" + std::string(32, 'a') +
                      R"(","failure_threshold":2,"degraded_within_days":10})");
  return s;
}

std::string only_type(const result<domain::decision, domain::domain_error>& d) {
  BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? std::string() : d.error().message));
  BOOST_REQUIRE_EQUAL(d->size(), 1u);
  return d->front().type;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(health_check_aggregate)

BOOST_AUTO_TEST_CASE(a_new_check_has_defaults_a_normalised_pin_and_no_status_before_a_probe) {
  scenario s = pinned_check();
  const auto v = s.view();
  BOOST_TEST(v.str("expected_fingerprint") == fp_a);
  BOOST_TEST(v.int64("timeout_ms") == 5000);
  BOOST_TEST(v.boolean("enabled") == true);
  BOOST_TEST(v.int64("consecutive_failures") == 0);
  BOOST_TEST(!v.has("status"));
  BOOST_TEST(v.boolean("acknowledged") == false);
}

BOOST_AUTO_TEST_CASE(bad_settings_are_refused_naming_the_field) {
  scenario s("health_check", "hc-1");
  for (const char* body : {R"({})", R"({"endpoint":"no-port"})", R"({"endpoint":"h:70000"})",
                           R"({"endpoint":"::1:443"})", R"({"endpoint":"h:443","timeout_ms":5})",
                           R"({"endpoint":"h:443","expected_fingerprint":"abc"})",
                           R"({"endpoint":"h:443","failure_threshold":0})"}) {
    auto d = s.when("health_check.create", body);
    BOOST_TEST_CONTEXT(body) {
      BOOST_REQUIRE(!d.ok());
      BOOST_TEST(d.error().code == domain::domain_errc::invalid);
    }
  }
  BOOST_TEST(s.when("health_check.create", R"({"endpoint":"[::1]:8443"})").ok());
}

BOOST_AUTO_TEST_CASE(the_expected_certificate_far_from_expiry_is_healthy_and_stays_quiet) {
  scenario s = pinned_check();
  const auto now = 1790000000000000;
  auto first = s.when("health_check.record_probe", ok_probe(fp_a, now, 90));
  BOOST_TEST(only_type(first) == "health_check.status_changed");
  BOOST_TEST(first->front().payload.str("to") == "Healthy");
  BOOST_TEST(!first->front().payload.has("from"));
  s.given(*first);
  BOOST_TEST(s.view().str("status") == "Healthy");
  BOOST_TEST(s.view().str("last_success_at") == events::format_rfc3339(now));
  // The same outcome again is a probe, not a transition.
  auto again = s.when("health_check.record_probe", ok_probe(fp_a, now, 90));
  BOOST_TEST(only_type(again) == "health_check.probed");
  BOOST_TEST(again->front().payload.str("status") == "Healthy");
}

BOOST_AUTO_TEST_CASE(another_certificate_is_a_mismatch_and_the_pinned_one_back_is_healthy) {
  scenario s = pinned_check();
  s.given_command("health_check.record_probe", ok_probe(fp_a, 1790000000000000, 90));
  auto d = s.when("health_check.record_probe", ok_probe(fp_b, 1790000000000000, 90));
  BOOST_TEST(only_type(d) == "health_check.status_changed");
  BOOST_TEST(d->front().payload.str("from") == "Healthy");
  BOOST_TEST(d->front().payload.str("to") == "CertMismatch");
  s.given(*d);
  BOOST_TEST(s.view().str("failure_reason").find(fp_b) != std::string::npos);
  s.given_command("health_check.record_probe", ok_probe(fp_a, 1790000000000000, 90));
  BOOST_TEST(s.view().str("status") == "Healthy");
  BOOST_TEST(!s.view().has("failure_reason"));
}

BOOST_AUTO_TEST_CASE(a_leaf_within_the_window_is_degraded_and_an_expired_one_too) {
  scenario s = pinned_check();
  s.given_command("health_check.record_probe", ok_probe(fp_a, 1790000000000000, 10));
  BOOST_TEST(s.view().str("status") == "Degraded");
  s.given_command("health_check.record_probe", ok_probe(fp_a, 1790000000000000, 11));
  BOOST_TEST(s.view().str("status") == "Healthy");
  s.given_command("health_check.record_probe", ok_probe(fp_a, 1790000000000000, -1));
  BOOST_TEST(s.view().str("status") == "Degraded");
  BOOST_TEST(s.view().str("failure_reason").find("expired") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(failures_below_the_threshold_keep_the_status_and_the_threshold_is_down) {
  scenario s = pinned_check();
  const auto now = 1790000000000000;
  s.given_command("health_check.record_probe", ok_probe(fp_a, now, 90));
  auto first = s.when("health_check.record_probe", failed_probe(now));
  BOOST_TEST(only_type(first) == "health_check.probed");
  BOOST_TEST(first->front().payload.str("status") == "Healthy");
  s.given(*first);
  BOOST_TEST(s.view().int64("consecutive_failures") == 1);
  BOOST_TEST(s.view().str("last_failure_at") == events::format_rfc3339(now));
  auto second = s.when("health_check.record_probe", failed_probe(now));
  BOOST_TEST(only_type(second) == "health_check.status_changed");
  BOOST_TEST(second->front().payload.str("to") == "Down");
  s.given(*second);
  BOOST_TEST(s.view().str("failure_reason") == "connect_failed: refused");
  // More failures stay Down quietly; one success resets the count.
  BOOST_TEST(only_type(s.when("health_check.record_probe", failed_probe(now))) ==
             "health_check.probed");
  s.given_command("health_check.record_probe", ok_probe(fp_a, now, 90));
  BOOST_TEST(s.view().str("status") == "Healthy");
  BOOST_TEST(s.view().int64("consecutive_failures") == 0);
}

BOOST_AUTO_TEST_CASE(an_acknowledgement_records_who_and_lasts_until_the_next_transition) {
  scenario s = pinned_check();
  s.given_command("health_check.record_probe", ok_probe(fp_b, 1790000000000000, 90));
  auto d = s.when("health_check.acknowledge", R"({"acknowledged_by":"oncall","note":"known"})");
  BOOST_TEST(only_type(d) == "health_check.acknowledged");
  BOOST_TEST(d->front().payload.str("status") == "CertMismatch");
  s.given(*d);
  BOOST_TEST(s.view().boolean("acknowledged") == true);
  BOOST_TEST(s.view().str("acknowledged_by") == "oncall");
  BOOST_TEST(s.view().str("acknowledge_note") == "known");
  auto twice = s.when("health_check.acknowledge", "{}");
  BOOST_REQUIRE(twice.ok());
  BOOST_TEST(twice->empty());
  s.given_command("health_check.record_probe", ok_probe(fp_a, 1790000000000000, 90));
  BOOST_TEST(s.view().boolean("acknowledged") == false);
  BOOST_TEST(!s.view().has("acknowledged_by"));
  // Without a name, the caller is who acknowledged.
  s.given_command("health_check.acknowledge", "{}");
  BOOST_TEST(s.view().str("acknowledged_by") == "test");
}

BOOST_AUTO_TEST_CASE(a_disabled_or_deleted_check_takes_no_probe) {
  scenario s = pinned_check();
  s.given_command("health_check.update", R"({"enabled":false})");
  auto d = s.when("health_check.record_probe", failed_probe(1790000000000000));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == domain::domain_errc::conflict);
  s.given_command("health_check.delete", "{}");
  BOOST_TEST(!s.agg().exists());
  auto gone = s.when("health_check.record_probe", failed_probe(1790000000000000));
  BOOST_REQUIRE(!gone.ok());
  BOOST_TEST(gone.error().code == domain::domain_errc::not_found);
}

BOOST_AUTO_TEST_CASE(a_probe_event_becomes_a_history_entry) {
  scenario s = pinned_check();
  auto d = s.when("health_check.record_probe", ok_probe(fp_b, 1790000000000000, 90));
  BOOST_REQUIRE(d.ok());
  events::recorded_event e;
  e.type = d->front().type;
  e.payload = d->front().payload.dump();
  e.stream_version = 2;
  auto h = domain::health_history_entry("hc-1", e);
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(h->str("id") == "hc-1-2");
  BOOST_TEST(h->str("status") == "CertMismatch");
  BOOST_TEST(h->str("observed_fingerprint") == fp_b);
  BOOST_TEST(h->int64("response_time_ms") == 12);
}

BOOST_AUTO_TEST_SUITE_END()
