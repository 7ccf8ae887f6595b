// Expiry alert routing as pure rules: the threshold crossed, its tier, the tier's channels,
// and the write-time refusal of unknown tiers and channels on a renewal policy.
#include <boost/test/unit_test.hpp>

#include "domain/expiry_alerts.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

namespace {

constexpr std::int64_t day = 86400LL * 1000000;
constexpr events::timestamp_us now = 1790000000000000;

events::json_object doc(const std::string& json) {
  return events::json_object::parse(json).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(expiry_alert_rules)

BOOST_AUTO_TEST_CASE(the_most_urgent_crossed_threshold_counts_in_whole_days) {
  const domain::alert_policy p;  // 30, 14, 7, 0
  BOOST_TEST(!domain::crossed_threshold(p, now, now + 31 * day).has_value());
  BOOST_TEST(*domain::crossed_threshold(p, now, now + 30 * day + day / 2) == 30);  // 30.5 -> 30
  BOOST_TEST(*domain::crossed_threshold(p, now, now + 15 * day) == 30);
  BOOST_TEST(*domain::crossed_threshold(p, now, now + 14 * day) == 14);
  BOOST_TEST(*domain::crossed_threshold(p, now, now + 7 * day) == 7);
  BOOST_TEST(*domain::crossed_threshold(p, now, now + day - 1) == 0);
  BOOST_TEST(*domain::crossed_threshold(p, now, now - 3 * day) == 0);  // expired: still 0
}

BOOST_AUTO_TEST_CASE(default_tiers_and_the_email_fallback) {
  const domain::alert_policy p;
  BOOST_TEST(domain::severity_tier(p, 30) == "informational");
  BOOST_TEST(domain::severity_tier(p, 14) == "warning");
  BOOST_TEST(domain::severity_tier(p, 7) == "warning");
  BOOST_TEST(domain::severity_tier(p, 0) == "critical");
  BOOST_TEST(domain::alert_channels(p, "critical") == std::vector<std::string>{"Email"});
  BOOST_TEST(domain::notification_severity("informational") == "info");
}

BOOST_AUTO_TEST_CASE(a_policy_matrix_routes_each_tier) {
  auto p = domain::alert_policy_of(doc(R"({"alert_thresholds_days":[60,1],
    "alert_severity_map":{"60":"warning","1":"critical"},
    "alert_channels":{"warning":["Slack"],"critical":["PagerDuty","OpsGenie","Email","PagerDuty"]},
    "notify_on_failure_only":true})"));
  BOOST_TEST(p.thresholds_days == (std::vector<std::int64_t>{60, 1}));
  BOOST_TEST(*domain::crossed_threshold(p, now, now + 59 * day) == 60);
  BOOST_TEST(domain::severity_tier(p, 60) == "warning");
  BOOST_TEST(domain::alert_channels(p, "warning") == std::vector<std::string>{"Slack"});
  BOOST_TEST(domain::alert_channels(p, "critical") ==
             (std::vector<std::string>{"PagerDuty", "OpsGenie", "Email"}));
  BOOST_TEST(domain::alert_channels(p, "informational") == std::vector<std::string>{"Email"});
  BOOST_TEST(p.failure_only);
}

BOOST_AUTO_TEST_CASE(a_renewal_policy_with_bad_alert_settings_is_refused_at_write_time) {
  for (const char* bad : {R"({"name":"p","alert_channels":{"critical":["Pager"]}})",
                          R"({"name":"p","alert_channels":{"urgent":["Email"]}})",
                          R"({"name":"p","alert_channels":{"critical":"Email"}})",
                          R"({"name":"p","alert_severity_map":{"30":"loud"}})",
                          R"({"name":"p","alert_severity_map":{"soon":"warning"}})",
                          R"({"name":"p","alert_thresholds_days":[400]})"}) {
    scenario s("renewal_policy", "rp-1");
    auto r = s.when("renewal_policy.create", bad);
    BOOST_TEST(!r.ok(), bad);
    if (!r.ok()) BOOST_TEST(r.error().code == domain::domain_errc::invalid);
  }
  scenario s("renewal_policy", "rp-1");
  s.given_command("renewal_policy.create",
                  R"({"name":"p","alert_channels":{"critical":["PagerDuty","Email"]},
                      "alert_severity_map":{"0":"critical"}})");
  BOOST_TEST(
      s.when("renewal_policy.update", R"({"alert_channels":{"warning":["Fax"]}})").error().code ==
      domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_SUITE_END()
