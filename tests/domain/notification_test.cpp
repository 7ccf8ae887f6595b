// The notification aggregate as a specification: pending -> sent -> read; failures back off
// 2^n minutes (capped at 1 h) and die after 5 attempts; only dead ones are requeued; an id
// created twice is refused (how alerts are de-duplicated).
#define BOOST_TEST_MODULE domain_notification
#include <boost/test/unit_test.hpp>

#include "domain/notification.hpp"
#include "events/time.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

namespace {

constexpr std::int64_t minute = 60LL * 1000000;
const char* alert = R"({"type":"ExpirationWarning","channel":"Slack","severity":"warning",
  "certificate_id":"mc-1","subject":"expires in 14 days","message":"mc-1 expires",
  "details":{"threshold_days":"14"},"unknown":"dropped"})";

}  // namespace

BOOST_AUTO_TEST_SUITE(notification_aggregate)

BOOST_AUTO_TEST_CASE(a_notification_starts_pending_is_sent_and_read) {
  scenario s("notification", "n-1");
  s.given_command("notification.create", alert);
  BOOST_TEST(s.view().str("status") == "pending");
  BOOST_TEST(s.view().int64("retry_count") == 0);
  BOOST_TEST(s.view().str("channel") == "Slack");
  BOOST_TEST(s.view().str("type") == "ExpirationWarning");
  BOOST_TEST(!s.view().has("unknown"));
  BOOST_TEST(s.view().str_map("details").at("threshold_days") == "14");
  s.given_command("notification.record_delivery", R"({"delivered":true,"message_id":"m-1"})");
  BOOST_TEST(s.view().str("status") == "sent");
  BOOST_TEST(s.view().has("sent_at"));
  BOOST_TEST(!s.view().has("next_retry_at"));
  s.given_command("notification.mark_read", "{}");
  BOOST_TEST(s.view().str("status") == "read");
  BOOST_TEST(s.when("notification.mark_read", "{}").value().empty());
}

BOOST_AUTO_TEST_CASE(the_same_id_twice_is_a_conflict_so_an_alert_is_queued_once) {
  scenario s("notification", "n-1");
  s.given_command("notification.create", alert);
  BOOST_TEST(s.when("notification.create", alert).error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(failures_back_off_exponentially_and_the_fifth_makes_it_dead) {
  scenario s("notification", "n-1");
  s.given_command("notification.create", alert);
  const events::timestamp_us t0 = 1790000000000000;
  const std::int64_t expected_wait[] = {2 * minute, 4 * minute, 8 * minute, 16 * minute};
  for (int i = 0; i < 4; ++i) {
    s.set_now(t0);
    s.given_command("notification.record_delivery", R"({"delivered":false,"error":"HTTP 503"})");
    BOOST_TEST(s.view().str("status") == "failed");
    BOOST_TEST(s.view().int64("retry_count") == i + 1);
    BOOST_TEST(s.view().str("last_error") == "HTTP 503");
    BOOST_TEST(s.view().str("next_retry_at") == events::format_rfc3339(t0 + expected_wait[i]));
  }
  s.given_command("notification.record_delivery", R"({"delivered":false,"error":"HTTP 503"})");
  BOOST_TEST(s.view().str("status") == "dead");
  BOOST_TEST(s.view().int64("retry_count") == 5);
  BOOST_TEST(!s.view().has("next_retry_at"));
  BOOST_TEST(s.when("notification.record_delivery", R"({"delivered":true})").error().code ==
             domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(the_backoff_is_capped_at_one_hour) {
  BOOST_TEST(domain::notification_backoff_us(1) == 2 * minute);
  BOOST_TEST(domain::notification_backoff_us(5) == 32 * minute);
  BOOST_TEST(domain::notification_backoff_us(6) == 60 * minute);
  BOOST_TEST(domain::notification_backoff_us(40) == 60 * minute);
}

BOOST_AUTO_TEST_CASE(a_permanent_failure_is_dead_at_once) {
  scenario s("notification", "n-1");
  s.given_command("notification.create", alert);
  s.given_command("notification.record_delivery",
                  R"({"delivered":false,"retryable":false,"error":"HTTP 404 no_service"})");
  BOOST_TEST(s.view().str("status") == "dead");
  BOOST_TEST(s.view().int64("retry_count") == 1);
}

BOOST_AUTO_TEST_CASE(only_a_dead_notification_is_requeued_with_a_fresh_budget) {
  scenario s("notification", "n-1");
  s.given_command("notification.create", alert);
  BOOST_TEST(s.when("notification.requeue", "{}").error().code == domain::domain_errc::invalid);
  s.given_command("notification.record_delivery",
                  R"({"delivered":false,"retryable":false,"error":"bad"})");
  s.given_command("notification.requeue", "{}");
  BOOST_TEST(s.view().str("status") == "pending");
  BOOST_TEST(s.view().int64("retry_count") == 0);
  BOOST_TEST(s.view().str("last_error") == "bad");  // kept for the audit trail
  BOOST_TEST(s.view().has("next_retry_at"));
}

BOOST_AUTO_TEST_CASE(unknown_channels_types_and_severities_are_refused) {
  scenario s("notification", "n-1");
  BOOST_TEST(
      s.when("notification.create", R"({"type":"ExpirationWarning","channel":"Fax","message":"m"})")
          .error()
          .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("notification.create", R"({"type":"Spam","channel":"Email","message":"m"})")
                 .error()
                 .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("notification.create",
                    R"({"type":"Revocation","channel":"Email","message":"m","severity":"panic"})")
                 .error()
                 .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("notification.mark_read", "{}").error().code == domain::domain_errc::not_found);
}

BOOST_AUTO_TEST_SUITE_END()
