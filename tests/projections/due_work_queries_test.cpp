// The scheduler loops' due-work queries and the serial lookup over the entity read models, on
// every backend. The loops themselves are tested through the server's adapter in
// tests/actors/schedulers.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "events/time.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/due_work_queries.hpp"
#include "projections/entity_projections.hpp"
#include "projections/projector.hpp"
#include "tests/projections/test_projections.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using namespace certctl::projections;
using testing::projection_env;

namespace {

constexpr events::timestamp_us now = 1790000000000000;
constexpr events::timestamp_us minute = 60000000;
constexpr events::timestamp_us hour = 60 * minute;
constexpr events::timestamp_us day = 24 * hour;

using strings = std::vector<std::string>;

template <class T>
T must(db_result<T> r) {
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r).value();
}

std::string cert_body(const std::string& profile) {
  return R"({"name":"n","common_name":"c.example.com","owner_id":"o-1","team_id":"t-1",)"
         R"("issuer_id":"iss-local","renewal_policy_id":"rp-1","certificate_profile_id":")" +
         profile + R"("})";
}

std::string issued(const std::string& serial, events::timestamp_us not_after) {
  return R"({"job_id":"j","serial_number":")" + serial +
         R"(","not_before":"2026-01-01T00:00:00Z","not_after":")" +
         events::format_rfc3339(not_after) + R"(","fingerprint_sha256":"ff","pem_chain":"PEM-)" +
         serial + R"("})";
}

std::string job_body(const std::string& certificate, bool awaiting_csr) {
  return R"({"type":"Issuance","certificate_id":")" + certificate + R"(","status":")" +
         (awaiting_csr ? "AwaitingCSR" : "Pending") +
         R"(","max_attempts":3,"awaiting_csr_mode":")" + (awaiting_csr ? "agent" : "server") +
         R"("})";
}

/// Stream "<kind>-<id>" names entity <id>: the rows carry the id alone.
template <class Row>
strings ids(const std::vector<Row>& rows) {
  strings out;
  for (const auto& r : rows) out.push_back(r.id);
  return out;
}

/// Certificates expiring at different times (one on a short-lived profile, one revoked), jobs
/// in every waiting state, two renewal policies and three agents.
struct seeded {
  explicit seeded(const std::string& backend) : env(backend), p(env.log.store(), env.db) {
    events::timestamp_us t = now - 10 * day;
    auto at = [&t] { return t += minute; };
    env.append("profile-short", "profile.created", R"({"name":"s","allow_short_lived":true})",
               "test", at());
    env.append("profile-std", "profile.created", R"({"name":"std"})", "test", at());
    env.append("renewal_policy-rp-1", "renewal_policy.created",
               R"({"name":"a","renewal_window_days":20,"alert_thresholds_days":[30,60,7]})", "test",
               at());
    env.append("renewal_policy-rp-2", "renewal_policy.created", R"({"name":"b"})", "test", at());
    env.append("renewal_policy-rp-3", "renewal_policy.created", R"({"name":"c"})", "test", at());
    env.append("renewal_policy-rp-3", "renewal_policy.deleted", "{}", "test", at());
    const std::pair<const char*, events::timestamp_us> certs[] = {
        {"mc-soon", now + 5 * day}, {"mc-late", now + 50 * day}, {"mc-past", now - day}};
    for (const auto& [id, not_after] : certs) {
      env.append(std::string("certificate-") + id, "certificate.created", cert_body("std"), "test",
                 at());
      env.append(std::string("certificate-") + id, "certificate.issued",
                 issued(std::string("AB") + id, not_after), "test", at());
    }
    env.append("certificate-mc-short", "certificate.created", cert_body("short"), "test", at());
    env.append("certificate-mc-short", "certificate.issued", issued("CD01", now - minute), "test",
               at());
    env.append("certificate-mc-revoked", "certificate.created", cert_body("std"), "test", at());
    env.append("certificate-mc-revoked", "certificate.issued", issued("EF01", now + day), "test",
               at());
    env.append("certificate-mc-revoked", "certificate.revoked",
               R"({"reason":"superseded","reason_code":4,"serial_number":"EF01"})", "test", at());

    env.append("job-pending", "job.created", job_body("mc-soon", false), "test", at());
    env.append("job-csr", "job.created", job_body("mc-late", true), "test", at());
    env.append("job-running", "job.created", job_body("mc-past", false), "test", at());
    env.append("job-running", "job.started", "{}", "test", at());
    env.append("job-retry", "job.created", job_body("mc-past", false), "test", at());
    env.append("job-retry", "job.started", "{}", "test", at());
    env.append("job-retry", "job.failed",
               R"({"error":"x","retry":true,"next_attempt_at":")" +
                   events::format_rfc3339(now + hour) + R"("})",
               "test", at());

    env.append("job-order", "job.created", job_body("mc-past", false), "test", at());
    env.append("job-order", "job.started", "{}", "test", at());
    env.append("job-order", "job.order_pending",
               R"({"order_id":"https://ca.example/order/1","issuer_id":"iss-acme",)"
               R"("keygen":"server","order_state":"pending","next_poll_at":")" +
                   events::format_rfc3339(now + minute) + R"("})",
               "test", at());

    env.append("agent-quiet", "agent.registered", R"({"name":"q"})", "test", at());
    env.append("agent-gone", "agent.registered", R"({"name":"g"})", "test", at());
    env.append("agent-gone", "agent.retired", "{}", "test", at());
    last = env.append("agent-fresh", "agent.registered", R"({"name":"f"})", "test", now - minute);
    BOOST_REQUIRE(register_entity_projections(p).ok());
    BOOST_REQUIRE(*p.catch_up() == last);
  }
  projection_env env;
  projector p;
  std::int64_t last = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(due_work_queries_suite)

BOOST_DATA_TEST_CASE(renewal_candidates_are_active_certificates_by_expiry,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;
  const auto due = must(certificates_expiring_by(db, now + 30 * day, 10));
  BOOST_TEST(ids(due) == (strings{"mc-past", "mc-short", "mc-soon"}));
  BOOST_TEST(due.front().status == "Active");
  BOOST_TEST(due.front().expires_at == now - day);
  BOOST_TEST(due.front().expires_at_text == events::format_rfc3339(now - day));
  BOOST_TEST(due.front().renewal_policy_id == "rp-1");
  BOOST_TEST(due.front().certificate_profile_id == "std");
  BOOST_TEST(ids(must(certificates_expiring_by(db, now + 30 * day, 1))) == strings{"mc-past"});
  BOOST_TEST(ids(must(certificates_expiring_by(db, now + 30 * day, 0))) == strings{"mc-past"});

  BOOST_TEST(ids(must(short_lived_expired_by(db, now, 10))) == strings{"mc-short"});
  BOOST_TEST(must(short_lived_expired_by(db, now - hour, 10)).empty());
}

BOOST_DATA_TEST_CASE(renewal_policies_carry_their_fields_or_the_defaults,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;
  const auto all = must(renewal_policies(db));
  BOOST_TEST(ids(all) == (strings{"rp-1", "rp-2"}));  // the deleted one is gone
  BOOST_TEST(all[0].renewal_window_days == 20);
  BOOST_TEST(all[0].alert_window_days == 60);
  BOOST_TEST(all[1].renewal_window_days == 30);
  BOOST_TEST(all[1].max_retries == 3);
  BOOST_TEST(all[1].retry_interval_seconds == 3600);
  BOOST_TEST(all[1].auto_renew);
  BOOST_TEST(must(renewal_policy(db, "rp-1"))->renewal_window_days == 20);
  BOOST_TEST(!must(renewal_policy(db, "rp-3")).has_value());
}

BOOST_DATA_TEST_CASE(due_and_stuck_jobs_and_silent_agents,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;
  BOOST_TEST(ids(must(pending_jobs_due(db, now, 10))) == strings{"pending"});
  BOOST_TEST(ids(must(pending_jobs_due(db, now + 2 * hour, 10))) == (strings{"pending", "retry"}));
  const auto retry = must(pending_jobs_due(db, now + 2 * hour, 10)).back();
  BOOST_TEST(retry.attempts == 1);
  BOOST_TEST(retry.scheduled_at == now + hour);

  BOOST_TEST(ids(must(jobs_awaiting_csr_since(db, now, 10))) == strings{"csr"});
  BOOST_TEST(must(jobs_awaiting_csr_since(db, now - 10 * day, 10)).empty());

  // A running job with a pending CA order is the order poller's, not the stuck-job timeout's.
  const auto running = must(jobs_running_since(db, now, 10));
  BOOST_TEST(ids(running) == strings{"running"});
  BOOST_TEST(must(jobs_awaiting_order_due(db, now, 10)).empty());
  const auto orders = must(jobs_awaiting_order_due(db, now + minute, 10));
  BOOST_TEST(ids(orders) == strings{"order"});
  BOOST_TEST(orders.front().order_id == "https://ca.example/order/1");
  BOOST_TEST(orders.front().scheduled_at == now + minute);
  BOOST_TEST(running.front().started_at > now - 10 * day);
  BOOST_TEST(must(jobs_running_since(db, now - 10 * day, 10)).empty());

  const auto silent = must(agents_silent_since(db, now - 5 * minute, 10));
  BOOST_TEST(ids(silent) == strings{"quiet"});  // retired and fresh ones are not
  BOOST_TEST(silent.front().last_heartbeat_at < now - 9 * day);
}

BOOST_DATA_TEST_CASE(a_serial_finds_its_certificate_in_either_case,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;
  auto upper = must(find_version_by_serial(db, "CD01"));
  BOOST_REQUIRE(upper.has_value());
  BOOST_TEST(upper->certificate_id == "mc-short");
  BOOST_TEST(upper->pem_chain == "PEM-CD01");
  auto lower = must(find_version_by_serial(db, "cd01"));
  BOOST_REQUIRE(lower.has_value());
  BOOST_TEST(lower->certificate_id == "mc-short");
  BOOST_TEST(!must(find_version_by_serial(db, "0BAD")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
