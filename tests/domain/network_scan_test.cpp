// Network scan targets as specifications: the defaults, the caps on ranges and ports (checked
// on create and on the merged document of an update), and the scan stats a finished scan adds.
#include <boost/test/unit_test.hpp>

#include "domain/network_scan.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

BOOST_AUTO_TEST_SUITE(network_scan_targets)

BOOST_AUTO_TEST_CASE(a_target_gets_the_reference_defaults) {
  scenario s("network_scan_target", "nst-1");
  s.given_command("network_scan_target.create", R"({"name":"dc","cidrs":["10.1.0.0/20"]})");
  BOOST_TEST(s.view().raw("ports") == "[443]");
  BOOST_TEST(s.view().boolean("enabled") == true);
  BOOST_TEST(s.view().int64("scan_interval_hours") == 6);
  BOOST_TEST(s.view().int64("timeout_ms") == 5000);
}

BOOST_AUTO_TEST_CASE(ranges_are_capped_at_4096_addresses) {
  std::string why;
  BOOST_TEST(domain::valid_scan_cidr("10.0.0.0/20", why));
  BOOST_TEST(domain::valid_scan_cidr("192.0.2.7", why));
  BOOST_TEST(domain::valid_scan_cidr("2001:db8::/116", why));
  BOOST_TEST(!domain::valid_scan_cidr("10.0.0.0/19", why));
  BOOST_TEST(why.find("/20") != std::string::npos);
  BOOST_TEST(!domain::valid_scan_cidr("2001:db8::/115", why));
  BOOST_TEST(!domain::valid_scan_cidr("10.0.0.0/33", why));
  BOOST_TEST(!domain::valid_scan_cidr("10.0.0.0/", why));
  BOOST_TEST(!domain::valid_scan_cidr("10.0.0/24", why));
  BOOST_TEST(!domain::valid_scan_cidr("host.example/24", why));
}

BOOST_AUTO_TEST_CASE(ports_intervals_and_timeouts_are_bounded_on_create_and_update) {
  scenario s("network_scan_target", "nst-1");
  const auto refused = [&s](const std::string& verb, const std::string& body) {
    auto r = s.when("network_scan_target." + verb, body);
    return !r && r.error().code == domain::domain_errc::invalid;
  };
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.0/16"]})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":[]})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"ports":[]})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"ports":[0]})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"ports":[65536]})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"ports":["443"]})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"timeout_ms":50})"));
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"scan_interval_hours":0})"));
  std::string ports21 = "[";
  for (int p = 1; p <= 21; ++p) ports21 += (p > 1 ? "," : "") + std::to_string(p);
  BOOST_TEST(refused("create", R"({"name":"x","cidrs":["10.0.0.1"],"ports":)" + ports21 + "]}"));
  s.given_command("network_scan_target.create",
                  R"({"name":"x","cidrs":["10.0.0.1"],"ports":[443,8443]})");
  BOOST_TEST(refused("update", R"({"cidrs":["10.0.0.0/8"]})"));
  BOOST_TEST(refused("update", R"({"ports":[99999]})"));
  s.given_command("network_scan_target.update", R"({"cidrs":["10.0.0.0/24"],"enabled":false})");
  BOOST_TEST(s.view().str_array("cidrs") == std::vector<std::string>{"10.0.0.0/24"});
  BOOST_TEST(s.view().boolean("enabled") == false);
}

BOOST_AUTO_TEST_CASE(a_finished_scan_sets_the_last_scan_fields) {
  scenario s("network_scan_target", "nst-1");
  s.given_command("network_scan_target.create", R"({"name":"x","cidrs":["10.0.0.1"]})");
  BOOST_TEST(
      s.when("network_scan_target.record_scan", R"({"last_scan_at":"yesterday"})").error().code ==
      domain::domain_errc::invalid);
  s.given_command("network_scan_target.record_scan",
                  R"({"last_scan_at":"2026-12-03T10:00:00Z","last_scan_duration_ms":1200,)"
                  R"("last_scan_certs_found":3,"discovery_scan_id":"scan-1"})");
  BOOST_TEST(s.view().str("last_scan_at") == "2026-12-03T10:00:00Z");
  BOOST_TEST(s.view().int64("last_scan_duration_ms") == 1200);
  BOOST_TEST(s.view().int64("last_scan_certs_found") == 3);
  BOOST_TEST(s.view().str("last_scan_id") == "scan-1");
  BOOST_TEST(s.view().str("name") == "x");
}

BOOST_AUTO_TEST_SUITE_END()
