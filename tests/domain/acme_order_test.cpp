#include <boost/test/unit_test.hpp>

#include "tests/domain/given_when_then.hpp"

using certctl::testing::scenario;

namespace {
const char* order_body =
    R"({"account_id":"acct-1","profile_id":"","identifiers":[{"type":"dns","value":"a.test"}],)"
    R"("authorizations":["az-1"],"expires":"2026-01-08T00:00:00Z","status":"pending"})";
}

BOOST_AUTO_TEST_SUITE(acme_order_aggregate)

BOOST_AUTO_TEST_CASE(walks_pending_ready_processing_valid) {
  scenario s("acme_order", "ord-1");
  s.given_command("acme_order.create", order_body);
  BOOST_TEST(s.view().str("status") == "pending");
  // Not ready: finalize is refused (the gateway answers orderNotReady).
  auto early = s.when("acme_order.finalize", R"({"certificate_id":"mc-1","job_id":"job-1"})");
  BOOST_REQUIRE(!early.ok());
  BOOST_TEST((early.error().code == certctl::domain::domain_errc::conflict));
  s.given_command("acme_order.mark_ready", "{}");
  BOOST_TEST(s.view().str("status") == "ready");
  s.given_command("acme_order.finalize", R"({"certificate_id":"mc-1","job_id":"job-1"})");
  BOOST_TEST(s.view().str("status") == "processing");
  BOOST_TEST(s.view().str("certificate_id") == "mc-1");
  s.given_command("acme_order.record_issued", R"({"serial_number":"0A"})");
  BOOST_TEST(s.view().str("status") == "valid");
  // Terminal: later failures and repeats change nothing.
  BOOST_TEST(s.when("acme_order.record_failure", R"({"error":"x"})")->empty());
  BOOST_TEST(s.when("acme_order.record_issued", R"({"serial_number":"0B"})")->empty());
}

BOOST_AUTO_TEST_CASE(failure_makes_the_order_invalid) {
  scenario s("acme_order", "ord-1");
  s.given_command("acme_order.create", order_body);
  s.given_command("acme_order.invalidate", R"({"error":"authorization deactivated"})");
  BOOST_TEST(s.view().str("status") == "invalid");
  BOOST_TEST(s.view().str("error") == "authorization deactivated");
  BOOST_TEST(!s.when("acme_order.finalize", R"({"certificate_id":"m","job_id":"j"})").ok());
}

BOOST_AUTO_TEST_CASE(create_checks_its_fields) {
  scenario s("acme_order", "ord-1");
  BOOST_TEST(!s.when("acme_order.create", R"({"account_id":"a","expires":"x","status":"valid",)"
                                          R"("identifiers":[],"authorizations":["az"]})")
                  .ok());
  BOOST_TEST(!s.when("acme_order.create", R"({"account_id":"a","expires":"x","status":"ready",)"
                                          R"("identifiers":[],"authorizations":[]})")
                  .ok());
}

BOOST_AUTO_TEST_SUITE_END()
