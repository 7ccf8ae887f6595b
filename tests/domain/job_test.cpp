#include <boost/test/unit_test.hpp>

#include "domain/job.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

BOOST_AUTO_TEST_SUITE(job_aggregate)

BOOST_AUTO_TEST_CASE(a_server_keygen_issuance_job_starts_pending_and_completes) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  BOOST_TEST(s.view().str("status") == "Pending");
  BOOST_TEST(s.view().int64("max_attempts") == 3);
  s.given_command("job.start", "{}");
  BOOST_TEST(s.view().str("status") == "Running");
  BOOST_TEST(s.view().int64("attempts") == 1);
  s.given_command("job.complete", R"({"version_id":"v-1"})");
  BOOST_TEST(s.view().str("status") == "Completed");
  BOOST_TEST(s.view().has("completed_at"));
}

BOOST_AUTO_TEST_CASE(an_agent_keygen_job_waits_for_a_csr) {
  scenario s("job", "job-1");
  s.given_command("job.create",
                  R"({"type":"Issuance","certificate_id":"mc-1","awaiting_csr":true})");
  BOOST_TEST(s.view().str("status") == "AwaitingCSR");
  BOOST_TEST(s.when("job.start", "{}").error().code == domain::domain_errc::conflict);
  BOOST_TEST(s.when("job.submit_csr", "{}").error().code == domain::domain_errc::invalid);
  s.given_command("job.submit_csr", R"({"csr_pem":"-----BEGIN CERTIFICATE REQUEST-----"})");
  BOOST_TEST(s.view().str("status") == "Running");
}

BOOST_AUTO_TEST_CASE(an_agent_keygen_job_may_take_its_csr_with_the_creation) {
  scenario s("job", "job-1");
  // Only a job that would wait for a CSR, and not for an approval first, takes one at once.
  BOOST_TEST(s.when("job.create", R"({"type":"Issuance","certificate_id":"mc-1","csr_pem":"x"})")
                 .error()
                 .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("job.create", R"({"type":"Issuance","certificate_id":"mc-1",
                     "awaiting_csr":true,"awaiting_approval":true,"csr_pem":"x"})")
                 .error()
                 .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("job.create", R"({"type":"Issuance","certificate_id":"mc-1",
                     "awaiting_csr":true,"csr_pem":""})")
                 .error()
                 .code == domain::domain_errc::invalid);
  auto events = s.when("job.create", R"({"type":"Issuance","certificate_id":"mc-1",
                        "awaiting_csr":true,"csr_pem":"-----BEGIN CERTIFICATE REQUEST-----"})");
  BOOST_REQUIRE(events.ok());
  BOOST_REQUIRE(events->size() == 3u);
  BOOST_TEST((*events)[0].type == "job.created");
  BOOST_TEST((*events)[1].type == "job.csr_submitted");
  BOOST_TEST((*events)[1].payload.str("csr_pem") == "-----BEGIN CERTIFICATE REQUEST-----");
  BOOST_TEST((*events)[2].type == "job.started");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1",
                  "awaiting_csr":true,"csr_pem":"-----BEGIN CERTIFICATE REQUEST-----"})");
  BOOST_TEST(s.view().str("status") == "Running");
  BOOST_TEST(s.view().int64("attempts") == 1);
  BOOST_TEST(s.when("job.submit_csr", R"({"csr_pem":"y"})").error().code ==
             domain::domain_errc::conflict);
  s.given_command("job.complete", R"({"version_id":"v-1"})");
  BOOST_TEST(s.view().str("status") == "Completed");
}

BOOST_AUTO_TEST_CASE(a_job_refused_at_creation_is_created_started_and_failed_in_one_append) {
  scenario s("job", "job-1");
  BOOST_TEST(s.when("job.create", R"({"type":"Deployment","certificate_id":"mc-1",
                     "awaiting_csr":true,"refusal":"target t is disabled"})")
                 .error()
                 .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("job.create", R"({"type":"Deployment","certificate_id":"mc-1","refusal":""})")
                 .error()
                 .code == domain::domain_errc::invalid);
  auto events = s.when("job.create", R"({"type":"Deployment","certificate_id":"mc-1",
                        "max_attempts":3,"refusal":"target t is disabled"})");
  BOOST_REQUIRE(events.ok());
  BOOST_REQUIRE(events->size() == 3u);
  BOOST_TEST((*events)[0].type == "job.created");
  BOOST_TEST((*events)[1].type == "job.started");
  BOOST_TEST((*events)[2].type == "job.failed");
  BOOST_TEST((*events)[2].payload.str("error") == "target t is disabled");
  // Never retried, whatever max_attempts says: the same reason would refuse it again.
  BOOST_TEST((*events)[2].payload.boolean("retry", true) == false);
  s.given_command("job.create", R"({"type":"Deployment","certificate_id":"mc-1",
                  "max_attempts":3,"refusal":"target t is disabled"})");
  BOOST_TEST(s.view().str("status") == "Failed");
  BOOST_TEST(s.view().str("last_error") == "target t is disabled");
  BOOST_TEST(s.view().int64("attempts") == 1);
  BOOST_TEST(s.when("job.start", "{}").error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(a_failed_attempt_is_retried_until_max_attempts_then_fails) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Renewal","certificate_id":"mc-1","max_attempts":2})");
  s.given_command("job.start", "{}");
  s.given_command("job.fail", R"({"error":"CA timeout","next_attempt_at":"2026-11-27T10:00:00Z"})");
  BOOST_TEST(s.view().str("status") == "Pending");
  BOOST_TEST(s.view().str("scheduled_at") == "2026-11-27T10:00:00Z");
  BOOST_TEST(s.view().str("last_error") == "CA timeout");
  s.given_command("job.start", "{}");
  s.given_command("job.fail", R"({"error":"CA timeout again"})");
  BOOST_TEST(s.view().str("status") == "Failed");
}

BOOST_AUTO_TEST_CASE(an_asynchronous_order_is_job_state_until_the_ca_answers) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  BOOST_TEST(s.when("job.await_order", R"({"order_id":"o-1","issuer_id":"iss-a","keygen":"server",
                     "next_poll_at":"2026-11-27T10:00:00Z"})")
                 .error()
                 .code == domain::domain_errc::conflict);  // only a running attempt orders
  s.given_command("job.start", "{}");
  BOOST_TEST(s.when("job.await_order", R"({"order_id":"o-1"})").error().code ==
             domain::domain_errc::invalid);
  s.given_command("job.await_order", R"({"order_id":"o-1","issuer_id":"iss-a","keygen":"server",
                  "next_poll_at":"2026-11-27T10:00:00Z"})");
  BOOST_TEST(s.view().str("status") == "Running");  // the API's JobStatus has no other word
  BOOST_TEST(s.view().str("order_state") == "pending");
  BOOST_TEST(s.view().str("order_id") == "o-1");
  BOOST_TEST(s.view().str("scheduled_at") == "2026-11-27T10:00:00Z");
  BOOST_TEST(s.when("job.await_order", R"({"order_id":"o-2","issuer_id":"iss-a","keygen":"server",
                     "next_poll_at":"2026-11-27T10:00:00Z"})")
                 .error()
                 .code == domain::domain_errc::conflict);  // one order at a time
  s.given_command("job.poll_order", R"({"order_state":"pending","message":"issuing",
                  "next_poll_at":"2026-11-27T10:00:04Z"})");
  BOOST_TEST(s.view().int64("order_polls") == 1);
  BOOST_TEST(s.view().str("order_message") == "issuing");
  BOOST_TEST(s.view().str("scheduled_at") == "2026-11-27T10:00:04Z");
  s.given_command("job.complete", R"({"version_id":"v-1"})");
  BOOST_TEST(s.view().str("status") == "Completed");
  BOOST_TEST(s.view().str("order_state") == "valid");
  BOOST_TEST(s.when("job.poll_order", R"({"order_state":"pending",
                     "next_poll_at":"2026-11-27T10:00:08Z"})")
                 .error()
                 .code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(a_failed_order_is_retried_with_a_new_order) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  s.given_command("job.start", "{}");
  s.given_command("job.await_order", R"({"order_id":"o-1","issuer_id":"iss-a","keygen":"agent",
                  "next_poll_at":"2026-11-27T10:00:00Z"})");
  s.given_command("job.fail", R"({"error":"order o-1 is invalid"})");
  BOOST_TEST(s.view().str("status") == "Pending");
  BOOST_TEST(s.view().str("order_state") == "invalid");
  s.given_command("job.start", "{}");
  BOOST_TEST(!s.view().has("order_id"));  // the next attempt places its own order
  s.given_command("job.await_order", R"({"order_id":"o-2","issuer_id":"iss-a","keygen":"agent",
                  "next_poll_at":"2026-11-27T11:00:00Z"})");
  BOOST_TEST(s.view().str("order_id") == "o-2");
}

BOOST_AUTO_TEST_CASE(a_pending_order_says_what_it_waits_for_and_a_cancel_records_the_cas_answer) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  s.given_command("job.start", "{}");
  BOOST_TEST(s.when("job.record_order_cancel", R"({"outcome":"cancelled"})").error().code ==
             domain::domain_errc::conflict);  // no order, not cancelled
  s.given_command("job.await_order", R"({"order_id":"o-1","issuer_id":"iss-dc","keygen":"server",
                  "next_poll_at":"2026-11-27T10:00:00Z"})");
  BOOST_TEST(s.when("job.poll_order", R"({"order_state":"pending","ca_state":"sleeping",
                     "next_poll_at":"2026-11-27T10:00:05Z"})")
                 .error()
                 .code == domain::domain_errc::invalid);
  s.given_command("job.poll_order", R"({"order_state":"pending","ca_state":"pending_approval",
                  "message":"awaits approval","next_poll_at":"2026-11-27T10:00:05Z"})");
  BOOST_TEST(s.view().str("order_ca_state") == "pending_approval");
  BOOST_TEST(s.view().str("order_message") == "awaits approval");
  BOOST_TEST(s.when("job.record_order_cancel", R"({"outcome":"cancelled"})").error().code ==
             domain::domain_errc::conflict);  // the job is not cancelled yet
  s.given_command("job.cancel", "{}");
  BOOST_TEST(s.when("job.record_order_cancel", R"({"outcome":"maybe"})").error().code ==
             domain::domain_errc::invalid);
  s.given_command("job.record_order_cancel",
                  R"({"outcome":"failed","message":"issuer iss-dc: already issued"})");
  BOOST_TEST(s.view().str("status") == "Cancelled");
  BOOST_TEST(s.view().str("order_state") == "abandoned");
  BOOST_TEST(s.view().str("order_cancel_error") == "issuer iss-dc: already issued");
  BOOST_TEST(!s.view().has("order_ca_state"));
  BOOST_TEST(s.when("job.record_order_cancel", R"({"outcome":"cancelled"})").error().code ==
             domain::domain_errc::conflict);  // recorded once
}

BOOST_AUTO_TEST_CASE(a_non_retryable_failure_fails_at_once) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  s.given_command("job.start", "{}");
  s.given_command("job.fail", R"({"error":"CSR key too small","retryable":false})");
  BOOST_TEST(s.view().str("status") == "Failed");
}

BOOST_AUTO_TEST_CASE(cancelling_works_until_the_job_is_terminal) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  s.given_command("job.cancel", "{}");
  BOOST_TEST(s.view().str("status") == "Cancelled");
  BOOST_TEST(s.when("job.cancel", "{}").error().code == domain::domain_errc::conflict);
  BOOST_TEST(s.when("job.start", "{}").error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(invalid_job_definitions_are_rejected) {
  scenario s("job", "job-1");
  BOOST_TEST(s.when("job.create", R"({"type":"Coffee","certificate_id":"mc-1"})").error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(s.when("job.create", R"({"type":"Issuance"})").error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(s.when("job.create", R"({"type":"Issuance","certificate_id":"mc-1","max_attempts":0})")
                 .error()
                 .code == domain::domain_errc::invalid);
  BOOST_TEST(s.when("job.complete", "{}").error().code == domain::domain_errc::not_found);
}

BOOST_AUTO_TEST_CASE(a_deployment_records_its_steps_in_order_while_running) {
  scenario s("job", "job-1");
  s.given_command("job.create",
                  R"({"type":"Deployment","certificate_id":"mc-1","target_id":"t-1"})");
  const char* step = R"({"step":"reload","outcome":"succeeded","duration_ms":12,"output":"ok"})";
  BOOST_TEST(s.when("job.record_step", step).error().code == domain::domain_errc::conflict);
  s.given_command("job.start", "{}");
  s.given_command("job.record_step",
                  R"({"step":"write","outcome":"succeeded","duration_ms":3,"output":"wrote"})");
  s.given_command("job.record_step", step);
  const auto steps = s.view().object_array("steps");
  BOOST_REQUIRE_EQUAL(steps.size(), 2u);
  BOOST_TEST(steps[0].str("step") == "write");
  BOOST_TEST(steps[1].str("step") == "reload");
  BOOST_TEST(steps[1].int64("duration_ms") == 12);
  BOOST_TEST(steps[1].has("recorded_at"));
  BOOST_TEST(s.view().int64("step_count") == 2);
  BOOST_TEST(s.view().str("status") == "Running");
  // Outcomes and names are a closed, small vocabulary; output is bounded.
  BOOST_TEST(s.when("job.record_step", R"({"step":"reload","outcome":"maybe"})").error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(
      s.when("job.record_step", R"({"step":"Reload; rm","outcome":"failed"})").error().code ==
      domain::domain_errc::invalid);
  const std::string big(5000, 'x');
  s.given_command("job.record_step",
                  R"({"step":"verify","outcome":"failed","output":")" + big + R"("})");
  BOOST_TEST(s.view().object_array("steps")[2].str("output").size() == domain::max_step_output);
}

BOOST_AUTO_TEST_CASE(an_issuance_job_has_no_steps) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Issuance","certificate_id":"mc-1"})");
  s.given_command("job.start", "{}");
  BOOST_TEST(s.when("job.record_step", R"({"step":"write","outcome":"succeeded"})").error().code ==
             domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_CASE(a_timed_out_deployment_is_failed_for_good_and_refuses_later_reports) {
  scenario s("job", "job-1");
  s.given_command("job.create", R"({"type":"Deployment","certificate_id":"mc-1"})");
  s.given_command("job.start", "{}");
  s.given_command("job.time_out", R"({"error":"agent a-1 did not report","timeout_seconds":900})");
  BOOST_TEST(s.view().str("status") == "Failed");
  BOOST_TEST(s.view().str("last_error") == "agent a-1 did not report");
  BOOST_TEST(s.when("job.complete", "{}").error().code == domain::domain_errc::conflict);
  BOOST_TEST(s.when("job.time_out", R"({"error":"again"})").error().code ==
             domain::domain_errc::conflict);
  scenario pending("job", "job-2");
  pending.given_command("job.create", R"({"type":"Validation","target_id":"t-1"})");
  BOOST_TEST(pending.when("job.time_out", "{}").error().code == domain::domain_errc::invalid);
  pending.given_command("job.time_out", R"({"error":"never picked up"})");
  BOOST_TEST(pending.view().str("status") == "Failed");
}

BOOST_AUTO_TEST_SUITE_END()
