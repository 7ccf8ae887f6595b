#include <boost/test/unit_test.hpp>

#include "tests/domain/given_when_then.hpp"

using certctl::testing::scenario;

namespace {
std::string authz_body(const char* status) {
  return std::string(R"({"account_id":"acct-1","order_id":"ord-1","identifier_type":"dns",)") +
         R"("identifier_value":"a.test","expires":"2026-01-08T00:00:00Z","token":"tok",)" +
         R"("challenge_types":["http-01"],"status":")" + status + "\"}";
}
}  // namespace

BOOST_AUTO_TEST_SUITE(acme_authz_aggregate)

BOOST_AUTO_TEST_CASE(trust_authenticated_authorizations_start_valid) {
  scenario s("acme_authz", "az-1");
  s.given_command("acme_authz.create", authz_body("valid"));
  BOOST_TEST(s.view().str("status") == "valid");
  BOOST_TEST(s.view().str_map("challenge_status").at("http-01") == "valid");
  // Responding to an already valid challenge is a no-op.
  BOOST_TEST(s.when("acme_authz.start_challenge", R"({"type":"http-01"})")->empty());
}

BOOST_AUTO_TEST_CASE(challenge_validation_success_and_failure) {
  scenario ok("acme_authz", "az-1");
  ok.given_command("acme_authz.create", authz_body("pending"));
  ok.given_command("acme_authz.start_challenge", R"({"type":"http-01"})");
  BOOST_TEST(ok.view().str_map("challenge_status").at("http-01") == "processing");
  ok.given_command("acme_authz.record_validation", R"({"type":"http-01","valid":true})");
  BOOST_TEST(ok.view().str("status") == "valid");

  scenario bad("acme_authz", "az-2");
  bad.given_command("acme_authz.create", authz_body("pending"));
  // A result for a challenge nobody started is ignored.
  BOOST_TEST(
      bad.when("acme_authz.record_validation", R"({"type":"http-01","valid":true})")->empty());
  bad.given_command("acme_authz.start_challenge", R"({"type":"http-01"})");
  bad.given_command("acme_authz.record_validation",
                    R"({"type":"http-01","valid":false,"error":"wrong key authorization"})");
  BOOST_TEST(bad.view().str("status") == "invalid");
  BOOST_TEST(bad.view().str("error") == "wrong key authorization");
  BOOST_TEST(!bad.when("acme_authz.start_challenge", R"({"type":"dns-01"})").ok());
}

BOOST_AUTO_TEST_CASE(deactivation) {
  scenario s("acme_authz", "az-1");
  s.given_command("acme_authz.create", authz_body("valid"));
  s.given_command("acme_authz.deactivate", "{}");
  BOOST_TEST(s.view().str("status") == "deactivated");
  BOOST_TEST(s.when("acme_authz.deactivate", "{}")->empty());
}

BOOST_AUTO_TEST_SUITE_END()
