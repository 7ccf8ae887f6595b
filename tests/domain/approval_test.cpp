// The approval request aggregate: one decision, never by the requester, recorded with who and
// why; and the job states around it.
#include <boost/test/unit_test.hpp>

#include "domain/approval.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

namespace {

const char* const by_alice =
    R"({"certificate_id":"mc-1","job_id":"job-1","requested_by":"alice","profile_id":"prof-1",
        "metadata":{"common_name":"a.corp.test"}})";
const char* const by_test =
    R"({"certificate_id":"mc-1","job_id":"job-1","requested_by":"test"})";  // the scenario's
                                                                            // principal

domain::domain_errc error_of(const result<domain::decision, domain::domain_error>& r) {
  BOOST_REQUIRE(!r.ok());
  return r.error().code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(approval_aggregate)

BOOST_AUTO_TEST_CASE(one_decision_by_someone_else_is_recorded) {
  scenario s("approval", "ar-1");
  s.given_command("approval.create", by_alice);
  BOOST_TEST(s.view().str("state") == "pending");
  BOOST_TEST(s.view().str("requested_by") == "alice");
  auto d = s.when("approval.approve", R"({"note":"ticket 12"})");
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->front().type == "approval.approved");
  s.given(*d);
  BOOST_TEST(s.view().str("state") == "approved");
  BOOST_TEST(s.view().str("decided_by") == "test");
  BOOST_TEST(s.view().str("decision_note") == "ticket 12");
  BOOST_TEST(error_of(s.when("approval.reject", "{}")) == domain::domain_errc::conflict);
  BOOST_TEST(error_of(s.when("approval.expire", "{}")) == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(the_requester_can_neither_approve_nor_reject) {
  scenario s("approval", "ar-1");
  s.given_command("approval.create", by_test);
  BOOST_TEST(error_of(s.when("approval.approve", "{}")) == domain::domain_errc::forbidden);
  BOOST_TEST(error_of(s.when("approval.reject", "{}")) == domain::domain_errc::forbidden);
  s.given_command("approval.expire", "{}");  // the system may expire it
  BOOST_TEST(s.view().str("state") == "expired");
}

BOOST_AUTO_TEST_CASE(create_needs_its_links_and_an_id_follows_the_job) {
  scenario s("approval", "ar-1");
  BOOST_TEST(error_of(s.when("approval.create", R"({"certificate_id":"mc-1"})")) ==
             domain::domain_errc::invalid);
  BOOST_TEST(error_of(s.when("approval.approve", "{}")) == domain::domain_errc::not_found);
  BOOST_TEST(domain::approval_id_for_job("job-0123456789abcdef") == "ar-0123456789abcdef");
}

BOOST_AUTO_TEST_CASE(an_awaiting_job_is_released_by_approval_or_cancelled_by_rejection) {
  scenario approved("job", "job-1");
  approved.given_command("job.create",
                         R"({"type":"Renewal","certificate_id":"mc-1","awaiting_approval":true})");
  BOOST_TEST(approved.view().str("status") == "AwaitingApproval");
  BOOST_TEST(error_of(approved.when("job.start", "{}")) == domain::domain_errc::conflict);
  approved.given_command("job.approve", "{}");
  BOOST_TEST(approved.view().str("status") == "Pending");

  scenario agent("job", "job-2");
  agent.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1",
                                        "awaiting_approval":true,"awaiting_csr":true})");
  agent.given_command("job.approve", "{}");
  BOOST_TEST(agent.view().str("status") == "AwaitingCSR");

  scenario rejected("job", "job-3");
  rejected.given_command("job.create",
                         R"({"type":"Issuance","certificate_id":"mc-1","awaiting_approval":true})");
  rejected.given_command("job.reject", R"({"reason":"no"})");
  BOOST_TEST(rejected.view().str("status") == "Cancelled");
  BOOST_TEST(rejected.view().str("last_error") == "approval rejected by test: no");
  BOOST_TEST(error_of(rejected.when("job.approve", "{}")) == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(job_verification)

BOOST_AUTO_TEST_CASE(a_completed_job_records_what_the_endpoint_served) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  const std::string fp = std::string(64, 'a');
  const std::string ok = R"({"target_id":"t-1","expected_fingerprint":")" + fp +
                         R"(","actual_fingerprint":")" + fp + R"(","verified":true})";
  BOOST_TEST(error_of(s.when("job.record_verification", ok)) == domain::domain_errc::conflict);
  s.given_command("job.start", "{}");
  s.given_command("job.complete", "{}");
  const std::string lying = R"({"target_id":"t-1","expected_fingerprint":")" + fp +
                            R"(","actual_fingerprint":")" + std::string(64, 'b') +
                            R"(","verified":true})";
  BOOST_TEST(error_of(s.when("job.record_verification", lying)) == domain::domain_errc::invalid);
  BOOST_TEST(
      error_of(s.when("job.record_verification",
                      R"({"target_id":"t","expected_fingerprint":"zz","verified":false})")) ==
      domain::domain_errc::invalid);
  s.given_command("job.record_verification", ok);
  BOOST_TEST(s.view().str("status") == "Completed");
  auto v = events::json_object::parse(s.view().raw("verification")).value();
  BOOST_TEST(v.boolean("verified"));
  BOOST_TEST(v.str("job_id") == "job-1");
  BOOST_TEST(v.str("target_id") == "t-1");
}

BOOST_AUTO_TEST_SUITE_END()
