// The governance loops over the real read models (through the server's governance adapter):
// the policy sweep reports existing certificates once, approval expiry closes forgotten
// requests and their jobs. Manual clock, no sleeps.
#include <boost/test/unit_test.hpp>

#include "actors/schedulers/approval_expiry.hpp"
#include "actors/schedulers/policy_sweep.hpp"
#include "actors/workflows/policy_engine.hpp"
#include "actors/workflows/renewal.hpp"
#include "projections/approval_projection.hpp"
#include "projections/policy_violation_projection.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"
#include "tools/server/governance_adapter.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

struct governance_fixture : scheduler_fixture {
  server::governance_adapter adapter{db};
  governance_fixture() {
    BOOST_REQUIRE(projector.add(std::make_shared<projections::approval_projection>()).ok());
    BOOST_REQUIRE(projector.add(std::make_shared<projections::policy_violation_projection>()).ok());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(governance_loops)

BOOST_AUTO_TEST_CASE(the_sweep_reports_each_breaking_certificate_once) {
  governance_fixture f;
  f.policy("rp-1", "");
  f.active_certificate("mc-a", "rp-1", t0 + 90 * us_per_day);
  f.active_certificate("mc-b", "rp-1", t0 + 90 * us_per_day);
  BOOST_REQUIRE(f.exec("policy", "policy.create", "pol-1",
                       R"({"name":"acme only","type":"AllowedIssuers","severity":"Error",
                           "config":{"issuer_ids":["iss-acme"]}})")
                    .ok());
  f.project();
  actors::policy_engine engine(f.runtime, f.adapter);
  schedulers::policy_sweep sweep(engine, f.adapter, 1);  // one certificate per tick
  BOOST_TEST(sweep.tick(f.at(t0)).count("policy.record_violation") == 1u);
  BOOST_TEST(sweep.tick(f.at(t0 + 1)).count("policy.record_violation") == 1u);
  f.project();
  // Around again: both are on record, nothing new.
  for (int i = 0; i < 4; ++i) BOOST_TEST(sweep.tick(f.at(t0 + 2 + i)).actions.empty());
  auto page = projections::list_policy_violations(*f.db, "pol-1", 1, 50);
  BOOST_REQUIRE(page.ok());
  BOOST_TEST(page->total == 2);
  BOOST_TEST(f.events_of("policy.violation_recorded")[0].principal == "system:policy-sweep");
}

BOOST_AUTO_TEST_CASE(forgotten_requests_expire_and_cancel_their_jobs) {
  governance_fixture f;
  f.policy("rp-1", "");
  BOOST_REQUIRE(f.exec("profile", "profile.create", "prof-1",
                       R"({"name":"guarded","requires_approval":true})")
                    .ok());
  BOOST_REQUIRE(f.exec("certificate", "certificate.create", "mc-1",
                       R"({"name":"mc-1","common_name":"a.corp.test","renewal_policy_id":"rp-1",
                           "issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1",
                           "certificate_profile_id":"prof-1"})")
                    .ok());
  actors::issuance_start start;
  start.certificate_id = "mc-1";
  start.job_id = "job-0000000000000001";
  start.principal = "apikey:alice";
  auto cert = f.view("certificate", "mc-1");
  auto started = actors::start_issuance(f.runtime, {}, cert, "Issuance", start);
  BOOST_REQUIRE(started.ok());
  BOOST_TEST(started.awaiting_approval);
  f.project();

  schedulers::approval_expiry loop(f.runtime, f.adapter, std::chrono::hours(24));
  BOOST_TEST(loop.tick(f.at(t0 + 23 * us_per_hour)).actions.empty());
  auto r = loop.tick(f.at(t0 + 25 * us_per_hour));
  BOOST_TEST(r.count("approval.expire") == 1u);
  BOOST_TEST(f.view("approval", "ar-0000000000000001").str("state") == "expired");
  BOOST_TEST(f.view("job", "job-0000000000000001").str("status") == "Cancelled");
  BOOST_TEST(f.view("job", "job-0000000000000001").str("last_error") == "approval request expired");
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Failed");
  // The read model still says pending: the next tick meets a conflict and changes nothing.
  auto again = loop.tick(f.at(t0 + 26 * us_per_hour));
  BOOST_TEST(again.count("approval.expire") == 0u);
  BOOST_TEST(f.events_of("approval.expired").size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
