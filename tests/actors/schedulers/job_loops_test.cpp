// Job timeouts, retry scheduling and the job processor over the real read models.
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "actors/schedulers/deployment_timeout.hpp"
#include "actors/schedulers/job_processor.hpp"
#include "actors/schedulers/job_retry.hpp"
#include "actors/schedulers/job_timeout.hpp"
#include "actors/schedulers/renewal_check.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "connectors/issuers/issuer.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/random.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

/// A CA that is down: every issue() fails with `unavailable` (retryable).
class unavailable_issuer final : public connectors::issuer {
 public:
  std::string_view type() const override { return "GenericCA"; }
  const std::string& id() const override { return id_; }
  result<connectors::issued_certificate, connectors::issuer_error> issue(
      const connectors::issuance_request&) override {
    return connectors::issuer_error{connectors::issuer_errc::unavailable, "CA is down"};
  }
  std::string ca_chain_pem() const override { return {}; }

 private:
  std::string id_ = "iss-down";
};

/// A certificate in Pending with one job for it; returns the job id.
std::string pending_certificate_with_job(scheduler_fixture& f, bool awaiting_csr,
                                         std::int64_t max_attempts = 3) {
  BOOST_REQUIRE(f.exec("certificate", "certificate.create", "mc-1",
                       R"({"name":"a","common_name":"a.example.com","renewal_policy_id":"rp-1",
                           "issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1"})")
                    .ok());
  BOOST_REQUIRE(f.exec("job", "job.create", "job-1",
                       R"({"type":"Issuance","certificate_id":"mc-1","awaiting_csr":)" +
                           std::string(awaiting_csr ? "true" : "false") + R"(,"max_attempts":)" +
                           std::to_string(max_attempts) + "}")
                    .ok());
  return "job-1";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_loops)

BOOST_AUTO_TEST_CASE(a_job_awaiting_a_csr_for_24_hours_is_cancelled) {
  scheduler_fixture f;
  pending_certificate_with_job(f, true);
  f.project();
  schedulers::job_timeout loop(f.runtime, f.source);
  BOOST_TEST(loop.tick(f.at(t0 + 23 * us_per_hour)).actions.empty());
  auto r = loop.tick(f.at(t0 + 24 * us_per_hour + us_per_second));
  BOOST_TEST(r.count("job.cancel") == 1u);
  BOOST_TEST(r.count("certificate.record_failure") == 1u);
  const auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Cancelled");
  BOOST_TEST(job.str("last_error") == "timed out waiting for CSR");
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Failed");
  const auto cancels = f.events_of("job.cancelled");
  BOOST_REQUIRE(cancels.size() == 1u);
  BOOST_TEST(cancels[0].principal == "system:timeouts");
  // Cancelled jobs leave the query.
  BOOST_TEST(loop.tick(f.at(t0 + 25 * us_per_hour)).actions.empty());
}

BOOST_AUTO_TEST_CASE(a_job_stuck_running_after_a_crash_is_failed_for_a_retry) {
  scheduler_fixture f;
  pending_certificate_with_job(f, false);
  BOOST_REQUIRE(f.exec("job", "job.start", "job-1").ok());  // then the worker died
  f.project();
  schedulers::job_timeout loop(f.runtime, f.source);
  BOOST_TEST(loop.tick(f.at(t0 + 29 * us_per_minute)).actions.empty());
  auto r = loop.tick(f.at(t0 + 31 * us_per_minute));
  BOOST_TEST(r.count("job.fail") == 1u);
  BOOST_TEST(r.count("certificate.record_failure") == 0u);  // attempts remain
  const auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Pending");
  BOOST_TEST(job.int64("attempts") == 1);
  // A stale read model repeats nothing.
  loop.tick(f.at(t0 + 32 * us_per_minute));
  BOOST_TEST(f.events_of("job.failed").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stuck_job_without_attempts_left_fails_the_certificate) {
  scheduler_fixture f;
  pending_certificate_with_job(f, false, 1);
  BOOST_REQUIRE(f.exec("job", "job.start", "job-1").ok());
  f.project();
  schedulers::job_timeout loop(f.runtime, f.source);
  auto r = loop.tick(f.at(t0 + us_per_hour));
  BOOST_TEST(r.count("job.fail") == 1u);
  BOOST_TEST(r.count("certificate.record_failure") == 1u);
  BOOST_TEST(f.job("job-1").str("status") == "Failed");
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Failed");
}

BOOST_AUTO_TEST_CASE(a_failed_issuance_is_retried_after_the_policy_interval) {
  scheduler_fixture f;
  f.policy("rp-1", R"("auto_renew":true,"retry_interval_seconds":600,"max_retries":2)");
  f.active_certificate("mc-1", "rp-1", t0 + 10 * us_per_day);
  f.project();

  const auto dir =
      std::filesystem::temp_directory_path() / ("certctl-sched-" + crypto::random_hex(6));
  auto keys = crypto::key_store::open(dir.string(), crypto::generate_aead_key());
  BOOST_REQUIRE(keys.ok());
  unavailable_issuer ca;
  actors::issuance_service issuance(f.runtime, ca, *keys, 1);
  issuance.set_retry_schedule(schedulers::make_retry_schedule(f.source, f.clock));
  // The hand-off runs the task on this thread, so the failure is recorded when tick returns.
  schedulers::renewal_check renewal(f.runtime, f.source,
                                    [&](actors::issuance_task t) { issuance.run(t); });
  const auto now = f.at(t0 + us_per_day);
  auto r = renewal.tick(now);
  BOOST_REQUIRE(r.count("job.create") == 1u);
  const std::string job_id = r.actions.back().entity_id;

  auto job = f.job(job_id);
  BOOST_TEST(job.str("status") == "Pending");
  BOOST_TEST(job.int64("attempts") == 1);
  BOOST_TEST(job.str("last_error") == "issuer iss-down: CA is down");
  BOOST_TEST(job.str("scheduled_at") == events::format_rfc3339(now + 600 * us_per_second));

  std::vector<actors::issuance_task> handed;
  schedulers::job_processor processor(f.runtime, f.source,
                                      [&](actors::issuance_task t) { handed.push_back(t); });
  BOOST_TEST(processor.tick(f.at(now + 599 * us_per_second)).actions.empty());
  auto p = processor.tick(f.at(now + 600 * us_per_second));
  BOOST_TEST(p.count("issuance.enqueue") == 1u);
  BOOST_REQUIRE(handed.size() == 1u);
  BOOST_TEST(handed[0].job_id == job_id);
  BOOST_TEST(handed[0].certificate_id == "mc-1");
  BOOST_TEST(handed[0].csr_pem.empty());
  // Still Pending in the read model (the task has not run): not handed off twice.
  BOOST_TEST(processor.tick(f.at(now + 610 * us_per_second)).actions.empty());
  BOOST_TEST(handed.size() == 1u);

  // The second attempt fails too and is scheduled another interval later.
  const auto second = f.at(now + 620 * us_per_second);
  issuance.run(handed[0]);
  job = f.job(job_id);
  BOOST_TEST(job.int64("attempts") == 2);
  BOOST_TEST(job.str("scheduled_at") == events::format_rfc3339(second + 600 * us_per_second));
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(fresh_jobs_are_left_to_whoever_created_them) {
  scheduler_fixture f;
  pending_certificate_with_job(f, false);
  f.project();
  int handed = 0;
  schedulers::job_processor processor(f.runtime, f.source,
                                      [&](actors::issuance_task) { ++handed; });
  processor.tick(f.at(t0 + 30 * us_per_second));
  BOOST_TEST(handed == 0);
  // Not started a minute later: the hand-off was lost (a crash); pick it up.
  processor.tick(f.at(t0 + 61 * us_per_second));
  BOOST_TEST(handed == 1);
}

// The pgkill finding (docs/fault-tests.md): a worker whose job.start failed while PostgreSQL
// restarted leaves the job Pending with the same scheduled_at and no trace. Remembering that
// hand-off for good left such jobs Pending forever; it counts for the grace only.
BOOST_AUTO_TEST_CASE(a_hand_off_whose_job_never_started_is_repeated_after_the_grace) {
  scheduler_fixture f;
  const std::string job_id = pending_certificate_with_job(f, false);
  f.project();
  std::vector<actors::issuance_task> handed;  // tasks that never run: their job.start was lost
  schedulers::job_processor processor(f.runtime, f.source,
                                      [&](actors::issuance_task t) { handed.push_back(t); });
  const auto first = f.at(t0 + 61 * us_per_second);
  BOOST_TEST(processor.tick(first).count("issuance.enqueue") == 1u);
  // Within the grace the first task may still be queued: not handed off twice.
  BOOST_TEST(processor.tick(f.at(first + 59 * us_per_second)).actions.empty());
  BOOST_TEST(handed.size() == 1u);
  // Still Pending with the same scheduled_at a grace later: that hand-off was lost.
  BOOST_TEST(processor.tick(f.at(first + 60 * us_per_second)).count("issuance.enqueue") == 1u);
  BOOST_REQUIRE(handed.size() == 2u);
  BOOST_TEST(handed[1].job_id == job_id);
  BOOST_TEST(f.job(job_id).str("status") == "Pending");

  // Once the job has started it is no longer due: no further hand-off.
  BOOST_REQUIRE(f.exec("job", "job.start", job_id).ok());
  f.project();
  BOOST_TEST(processor.tick(f.at(first + 200 * us_per_second)).actions.empty());
  BOOST_TEST(handed.size() == 2u);
}

BOOST_AUTO_TEST_CASE(retry_schedule_falls_back_without_a_policy) {
  scheduler_fixture f;
  auto schedule = schedulers::make_retry_schedule(f.source, f.clock, std::chrono::seconds(90));
  actors::issuance_task t;
  t.certificate.set("renewal_policy_id", "rp-missing");
  BOOST_TEST(schedule(t) == t0 + 90 * us_per_second);
}

BOOST_AUTO_TEST_CASE(deployments_whose_agent_does_not_report_fail_at_the_deadline) {
  scheduler_fixture f;
  BOOST_REQUIRE(f.exec("job", "job.create", "job-dep-1",
                       R"({"type":"Deployment","certificate_id":"mc-1","target_id":"t-1",)"
                       R"("agent_id":"agent-1","max_attempts":1})")
                    .ok());
  BOOST_REQUIRE(f.exec("job", "job.create", "job-dep-2",
                       R"({"type":"Deployment","certificate_id":"mc-1","target_id":"t-2",)"
                       R"("agent_id":"agent-2","max_attempts":1})")
                    .ok());
  BOOST_REQUIRE(f.exec("job", "job.start", "job-dep-2").ok());  // taken, then silence
  pending_certificate_with_job(f, false);                       // an issuance: not ours
  f.project();
  schedulers::deployment_timeout loop(f.runtime, f.source, std::chrono::minutes(15));
  BOOST_TEST(loop.tick(f.at(t0 + 14 * us_per_minute)).actions.empty());
  auto r = loop.tick(f.at(t0 + 16 * us_per_minute));
  BOOST_TEST(r.count("job.time_out") == 2u);
  const auto never = f.job("job-dep-1");
  BOOST_TEST(never.str("status") == "Failed");
  BOOST_TEST(never.str("last_error") ==
             "agent agent-1 did not report within 900 s (the job was never picked up; "
             "CERTCTL_DEPLOYMENT_TIMEOUT)");
  BOOST_TEST(f.job("job-dep-2").str("last_error").find("no report since it started") !=
             std::string::npos);
  BOOST_TEST(f.job("job-1").str("status") == "Pending");  // the issuance job is left alone
  // A stale read model repeats nothing.
  loop.tick(f.at(t0 + 17 * us_per_minute));
  BOOST_TEST(f.events_of("job.timed_out").size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
