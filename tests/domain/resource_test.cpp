#include <boost/test/unit_test.hpp>

#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

BOOST_AUTO_TEST_SUITE(resource_aggregates)

BOOST_AUTO_TEST_CASE(a_renewal_policy_gets_the_spec_defaults) {
  scenario s("renewal_policy", "rp-1");
  s.given_command("renewal_policy.create", R"({"name":"standard"})");
  BOOST_TEST(s.view().int64("renewal_window_days") == 30);
  BOOST_TEST(s.view().boolean("auto_renew") == true);
  BOOST_TEST(s.view().int64("retry_interval_seconds") == 3600);
  BOOST_TEST(s.view().raw("alert_thresholds_days") == "[30,14,7,0]");
}

BOOST_AUTO_TEST_CASE(renewal_policy_ranges_are_enforced_on_create_and_update) {
  scenario s("renewal_policy", "rp-1");
  BOOST_TEST(
      s.when("renewal_policy.create", R"({"name":"x","renewal_window_days":0})").error().code ==
      domain::domain_errc::invalid);
  BOOST_TEST(s.when("renewal_policy.create", R"({"name":"x","retry_interval_seconds":5})")
                 .error()
                 .message.find("retry_interval_seconds") != std::string::npos);
  s.given_command("renewal_policy.create", R"({"name":"x"})");
  BOOST_TEST(s.when("renewal_policy.update", R"({"max_retries":11})").error().code ==
             domain::domain_errc::invalid);
  s.given_command("renewal_policy.update", R"({"max_retries":5})");
  BOOST_TEST(s.view().int64("max_retries") == 5);
}

// Whether a type is known is the edge's question (the connector registry): a type without a
// registered connector is refused with 400 there (tests/connectors/issuer_routes_test.cpp).
// The domain insists on a type at all.
BOOST_AUTO_TEST_CASE(an_issuer_needs_a_type) {
  scenario s("issuer", "iss-1");
  BOOST_TEST(s.when("issuer.create", R"({"name":"x"})").error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(s.when("issuer.create", R"({"name":"x","type":""})").error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(s.when("issuer.create", R"({"name":"x","type":7})").error().code ==
             domain::domain_errc::invalid);
  s.given_command("issuer.create", R"({"name":"Local","type":"GenericCA"})");
  BOOST_TEST(s.view().boolean("enabled") == true);
}

BOOST_AUTO_TEST_CASE(a_deleted_team_is_gone_and_can_be_created_again) {
  scenario s("team", "t-1");
  s.given_command("team.create", R"({"name":"Platform"})");
  BOOST_TEST(s.when("team.create", R"({"name":"Platform"})").error().code ==
             domain::domain_errc::conflict);
  s.given_command("team.delete", "{}");
  BOOST_TEST(s.when("team.update", R"({"name":"x"})").error().code ==
             domain::domain_errc::not_found);
  BOOST_TEST(s.when("team.create", R"({"name":"Platform 2"})").ok());
}

BOOST_AUTO_TEST_CASE(an_owner_email_must_look_like_one) {
  scenario s("owner", "o-1");
  BOOST_TEST(s.when("owner.create", R"({"name":"A","email":"nope"})").error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(s.when("owner.create", R"({"name":"A","email":"a@example.test"})").ok());
}

BOOST_AUTO_TEST_CASE(a_profile_rejects_unknown_ekus) {
  scenario s("profile", "prof-1");
  BOOST_TEST(s.when("profile.create", R"({"name":"p","allowed_ekus":["serverAuth","magic"]})")
                 .error()
                 .code == domain::domain_errc::invalid);
  s.given_command("profile.create", R"({"name":"p"})");
  BOOST_TEST(s.view().int64("max_ttl_seconds") == 31536000);
}

BOOST_AUTO_TEST_CASE(an_agent_registers_heartbeats_goes_offline_and_retires) {
  scenario s("agent", "ag-1");
  s.given_command("agent.register", R"({"name":"edge-1","hostname":"edge-1.example.test"})");
  BOOST_TEST(s.view().str("status") == "Online");
  s.given_command("agent.mark_offline", "{}");
  BOOST_TEST(s.view().str("status") == "Offline");
  s.given_command("agent.heartbeat", R"({"version":"1.2.3"})");
  BOOST_TEST(s.view().str("status") == "Online");
  BOOST_TEST(s.view().str("version") == "1.2.3");
  s.given_command("agent.retire", R"({"reason":"decommissioned"})");
  BOOST_TEST(s.view().has("retired_at"));
  BOOST_TEST(s.when("agent.heartbeat", "{}").error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_SUITE_END()
