// The event-log followers on a memory store: event-driven notifications routed by the
// certificate's policy and owner (failure-only drops successes), queued once per (event,
// channel) even when replayed; a webhook subscription receives matching events as signed
// envelopes in order, retries a failed one first, and resumes from its checkpoint after a
// restart without replaying history.
#include <httplib.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <mutex>

#include "actors/schedulers/event_followers.hpp"
#include "connectors/notifiers/registrations.hpp"
#include "infra/crypto/sha256.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

/// Checkpoints in memory; a copy shares them (a restarted follower finds its position).
struct memory_positions {
  std::shared_ptr<std::map<std::string, std::int64_t>> m =
      std::make_shared<std::map<std::string, std::int64_t>>();
  schedulers::position_store store() const {
    auto map = m;
    return {[map](const std::string& n) -> result<std::int64_t, std::string> {
              auto it = map->find(n);
              return it == map->end() ? std::int64_t{-1} : it->second;
            },
            [map](const std::string& n, std::int64_t p) -> result<done, std::string> {
              (*map)[n] = p;
              return done{};
            }};
  }
};

std::vector<events::json_object> notifications_of_type(scheduler_fixture& f,
                                                       const std::string& type) {
  std::vector<events::json_object> out;
  for (const auto& e : f.events_of("notification.created")) {
    auto p = payload_of(e);
    if (p.str("type") == type) out.push_back(p);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_followers)

BOOST_AUTO_TEST_CASE(failures_and_revocations_are_routed_by_policy_and_owner_once) {
  scheduler_fixture f;
  BOOST_REQUIRE(
      f.exec("owner", "owner.create", "o-1", R"({"name":"Ops","email":"ops@example.test"})").ok());
  f.policy("rp-1", R"("alert_channels":{"critical":["PagerDuty","Email"],"warning":["Slack"]})");
  memory_positions positions;
  schedulers::event_notifications follower(*f.store, f.runtime, positions.store());
  f.active_certificate("mc-old", "rp-1", t0 + 90 * us_per_day);
  BOOST_REQUIRE(
      f.exec("certificate", "certificate.revoke", "mc-old", R"({"reason":"superseded"})").ok());
  follower.tick(t0);  // first run: starts at the head, history is not notified
  BOOST_TEST(f.events_of("notification.created").empty());
  const std::int64_t started_at = positions.m->at("event-notifications");

  f.active_certificate("mc-1", "rp-1", t0 + 90 * us_per_day);
  BOOST_REQUIRE(f.exec("certificate", "certificate.renew", "mc-1", R"({"job_id":"job-r1"})").ok());
  BOOST_REQUIRE(f.exec("certificate", "certificate.record_failure", "mc-1",
                       R"({"job_id":"job-r1","error":"CA unreachable"})")
                    .ok());
  BOOST_REQUIRE(
      f.exec("certificate", "certificate.revoke", "mc-1", R"({"reason":"keyCompromise"})").ok());
  follower.tick(t0 + us_per_second);
  const auto failures = notifications_of_type(f, "RenewalFailure");
  BOOST_REQUIRE(failures.size() == 2u);  // critical: PagerDuty and Email
  BOOST_TEST(failures[0].str("channel") == "PagerDuty");
  BOOST_TEST(failures[1].str("channel") == "Email");
  BOOST_TEST(failures[1].str("recipient") == "ops@example.test");
  BOOST_TEST(failures[1].str("message").find("CA unreachable") != std::string::npos);
  const auto revocations = notifications_of_type(f, "Revocation");
  BOOST_REQUIRE(revocations.size() == 1u);  // warning: Slack
  BOOST_TEST(revocations[0].str("channel") == "Slack");
  BOOST_TEST(revocations[0].str("certificate_id") == "mc-1");
  // The first certificate.issued was not a renewal: no RenewalSuccess.
  BOOST_TEST(notifications_of_type(f, "RenewalSuccess").empty());

  // A crash before the checkpoint was saved: the same events again queue nothing new.
  (*positions.m)["event-notifications"] = started_at;
  follower.tick(t0 + 2 * us_per_second);
  BOOST_TEST(f.events_of("notification.created").size() == 3u);
}

BOOST_AUTO_TEST_CASE(deployment_jobs_and_policy_violations_are_notified) {
  scheduler_fixture f;
  f.policy(
      "rp-1",
      R"("alert_channels":{"critical":["PagerDuty"],"informational":["Slack"],"warning":["Email"]})");
  memory_positions positions;
  schedulers::event_notifications follower(*f.store, f.runtime, positions.store());
  follower.tick(t0);  // starts at the head
  f.active_certificate("mc-1", "rp-1", t0 + 90 * us_per_day);
  auto deploy = [&](const std::string& job, bool ok) {
    BOOST_REQUIRE(
        f.exec(
             "job", "job.create", job,
             R"({"type":"Deployment","certificate_id":"mc-1","target_id":"tgt-1","max_attempts":1})")
            .ok());
    BOOST_REQUIRE(f.exec("job", "job.start", job).ok());
    if (ok)
      BOOST_REQUIRE(f.exec("job", "job.complete", job).ok());
    else
      BOOST_REQUIRE(
          f.exec("job", "job.fail", job, R"({"error":"nginx -t failed","retryable":false})").ok());
  };
  deploy("job-d1", true);
  deploy("job-d2", false);
  // An issuance job's completion is not a deployment.
  BOOST_REQUIRE(
      f.exec("job", "job.create", "job-i1", R"({"type":"Issuance","certificate_id":"mc-1"})").ok());
  BOOST_REQUIRE(f.exec("job", "job.start", "job-i1").ok());
  BOOST_REQUIRE(f.exec("job", "job.complete", "job-i1").ok());
  BOOST_REQUIRE(
      f.exec("policy", "policy.create", "pol-1",
             R"({"name":"envs","type":"AllowedEnvironments","config":{"environments":["prod"]}})")
          .ok());
  BOOST_REQUIRE(
      f.exec(
           "policy", "policy.record_violation", "pol-1",
           R"({"violation_id":"pv-0000000000000001","certificate_id":"mc-1","message":"environment test is not allowed"})")
          .ok());
  follower.tick(t0 + us_per_second);
  const auto ok = notifications_of_type(f, "DeploymentSuccess");
  BOOST_REQUIRE(ok.size() == 1u);
  BOOST_TEST(ok[0].str("channel") == "Slack");
  const auto failed = notifications_of_type(f, "DeploymentFailure");
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(failed[0].str("channel") == "PagerDuty");
  BOOST_TEST(failed[0].str("message").find("nginx -t failed") != std::string::npos);
  const auto violations = notifications_of_type(f, "PolicyViolation");
  BOOST_REQUIRE(violations.size() == 1u);  // a Warning rule: the warning tier
  BOOST_TEST(violations[0].str("channel") == "Email");
  BOOST_TEST(violations[0].str("message").find("environment test is not allowed") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failure_only_policy_gets_no_renewal_success) {
  scheduler_fixture f;
  f.policy("rp-quiet", R"("notify_on_failure_only":true)");
  f.policy("rp-loud", "");
  memory_positions positions;
  schedulers::event_notifications follower(*f.store, f.runtime, positions.store());
  follower.tick(t0);
  for (const char* id : {"mc-quiet", "mc-loud"}) {
    const std::string policy = std::string(id) == "mc-quiet" ? "rp-quiet" : "rp-loud";
    f.active_certificate(id, policy, t0 + 90 * us_per_day);
    BOOST_REQUIRE(f.exec("certificate", "certificate.renew", id, R"({"job_id":"job-2"})").ok());
    events::json_object issued;
    issued.set("job_id", "job-2")
        .set("serial_number", "02")
        .set("not_before", events::format_rfc3339(t0))
        .set("not_after", events::format_rfc3339(t0 + 180 * us_per_day))
        .set("fingerprint_sha256", "11")
        .set("pem_chain", "-----BEGIN CERTIFICATE-----");
    BOOST_REQUIRE(f.exec("certificate", "certificate.record_issued", id, issued.dump()).ok());
  }
  follower.tick(t0 + us_per_second);
  const auto successes = notifications_of_type(f, "RenewalSuccess");
  BOOST_REQUIRE(successes.size() == 1u);
  BOOST_TEST(successes[0].str("certificate_id") == "mc-loud");
  BOOST_TEST(successes[0].str("channel") == "Email");  // no matrix: Email
}

BOOST_AUTO_TEST_CASE(endpoint_health_transitions_alert_by_tier_and_recovery_is_a_success) {
  scheduler_fixture f;
  f.policy("rp-1", R"("alert_channels":{"critical":["PagerDuty"],"informational":["Slack"]})");
  memory_positions positions;
  schedulers::event_notifications follower(*f.store, f.runtime, positions.store());
  follower.tick(t0);  // starts at the head
  f.active_certificate("mc-1", "rp-1", t0 + 90 * us_per_day);
  const std::string fp(64, 'a');
  BOOST_REQUIRE(f.exec("health_check", "health_check.create", "hc-linked",
                       R"({"endpoint":"api.example.test:443","certificate_id":"mc-1",)"
                       R"("failure_threshold":1,"expected_fingerprint":")" +
                           fp + R"("})")
                    .ok());
  BOOST_REQUIRE(f.exec("health_check", "health_check.create", "hc-bare",
                       R"({"endpoint":"10.0.0.9:8443","failure_threshold":1})")
                    .ok());
  const std::string checked_at = events::format_rfc3339(t0);
  auto probe = [&](const char* id, const std::string& fields) {
    BOOST_REQUIRE(f.exec("health_check", "health_check.record_probe", id,
                         R"({"checked_at":")" + checked_at + R"(",)" + fields + "}")
                      .ok());
  };
  const std::string served_ok = R"("ok":true,"observed_fingerprint":")" + fp + R"(")";
  probe("hc-linked", served_ok);  // the first status, Healthy: not an alert
  probe("hc-linked", R"("ok":true,"observed_fingerprint":")" + std::string(64, 'b') + R"(")");
  probe("hc-linked", served_ok);  // back to Healthy: a success, Slack by the matrix
  probe("hc-bare", R"("ok":false,"failure_reason":"connection refused")");  // first status Down
  follower.tick(t0 + us_per_second);

  const auto alerts = notifications_of_type(f, "HealthCheckAlert");
  BOOST_REQUIRE(alerts.size() == 3u);
  BOOST_TEST(alerts[0].str("channel") == "PagerDuty");  // CertMismatch: critical
  BOOST_TEST(alerts[0].str("certificate_id") == "mc-1");
  BOOST_TEST(alerts[0].str("subject").find("api.example.test:443") != std::string::npos);
  BOOST_TEST(alerts[0].str("message").find(std::string(64, 'b')) != std::string::npos);
  BOOST_TEST(alerts[1].str("channel") == "Slack");  // recovery: informational
  BOOST_TEST(alerts[1].str("subject").find("healthy again") != std::string::npos);
  BOOST_TEST(alerts[2].str("channel") == "Email");  // no certificate: the default matrix
  BOOST_TEST(!alerts[2].has("certificate_id"));
  BOOST_TEST(alerts[2].str("severity") == "critical");
  BOOST_TEST(alerts[2].str("message").find("connection refused") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(event_type_patterns) {
  BOOST_TEST(schedulers::subscribed({"*"}, "job.created"));
  BOOST_TEST(schedulers::subscribed({"certificate.*"}, "certificate.revoked"));
  BOOST_TEST(!schedulers::subscribed({"certificate.*"}, "certificates.x"));
  BOOST_TEST(!schedulers::subscribed({"certificate.*"}, "job.created"));
  BOOST_TEST(schedulers::subscribed({"job.failed", "certificate.revoked"}, "certificate.revoked"));
  BOOST_TEST(!schedulers::subscribed({}, "certificate.revoked"));
}

BOOST_AUTO_TEST_CASE(a_webhook_subscription_gets_signed_events_in_order_and_resumes) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("certctl-subscription-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  BOOST_REQUIRE(testing::run_shell(
                    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                    (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string())
                    .exit_code == 0);
  httplib::SSLServer server((dir / "cert.pem").c_str(), (dir / "key.pem").c_str());
  std::mutex mu;
  std::vector<std::string> received;  // event types accepted, in order
  int fail_requests = 0;
  bool signatures_ok = true;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    if (fail_requests > 0) {
      --fail_requests;
      res.status = 503;
      return;
    }
    signatures_ok = signatures_ok && req.get_header_value("X-Certctl-Signature") ==
                                         crypto::to_hex(crypto::hmac_sha256("sub-key", req.body));
    auto j = events::json_object::parse(req.body);
    received.push_back(j ? j->str("type") : "?");
    res.status = 204;
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server.is_running(); ++i)  // a stop() before it would be lost
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  scheduler_fixture f;
  connectors::connector_registry registry;
  connectors::builtin_context ctx;
  static const net::outbound_guard loopback({*net::parse_cidr("127.0.0.1/32")});
  ctx.outbound = &loopback;
  BOOST_REQUIRE(connectors::register_webhook_notifier(registry, ctx).ok());
  auto hook = registry.find_notifier("Webhook")->make(
      {"hook", events::json_object::parse(R"({"url":"https://127.0.0.1:)" + std::to_string(port) +
                                          R"(/hook","secret":"sub-key","ca_bundle_path":")" +
                                          (dir / "cert.pem").string() + "\"}")
                   .value()});
  BOOST_REQUIRE(hook.ok());
  memory_positions positions;
  const schedulers::webhook_subscription sub{"test", {"certificate.*"}, *hook};

  f.policy("rp-1", "");  // before the subscription: never sent
  {
    schedulers::webhook_subscriber subscriber(*f.store, positions.store(), sub);
    subscriber.tick(t0);                                         // starts at the head
    f.active_certificate("mc-1", "rp-1", t0 + 90 * us_per_day);  // created, issued
    {
      std::lock_guard<std::mutex> lock(mu);
      fail_requests = 1;
    }
    auto r = subscriber.tick(t0 + us_per_second);  // certificate.created fails: stop there
    BOOST_TEST(!r.actions.empty());
    BOOST_TEST(received.empty());
    subscriber.tick(t0 + 2 * us_per_second);
    BOOST_TEST(received == (std::vector<std::string>{"certificate.created", "certificate.issued"}));
  }
  // Downtime: events happen while no subscriber runs; a new one resumes from the checkpoint.
  BOOST_REQUIRE(
      f.exec("certificate", "certificate.revoke", "mc-1", R"({"reason":"superseded"})").ok());
  BOOST_REQUIRE(f.exec("renewal_policy", "renewal_policy.update", "rp-1", R"({"max_retries":1})")
                    .ok());  // not subscribed
  schedulers::webhook_subscriber restarted(*f.store, positions.store(), sub);
  restarted.tick(t0 + us_per_hour);
  restarted.tick(t0 + us_per_hour + us_per_second);
  server.stop();
  serving.join();
  std::filesystem::remove_all(dir);
  BOOST_TEST(received == (std::vector<std::string>{"certificate.created", "certificate.issued",
                                                   "certificate.revoked"}));
  BOOST_TEST(signatures_ok);
}

BOOST_AUTO_TEST_SUITE_END()
