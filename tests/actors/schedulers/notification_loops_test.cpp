// The notification loops on a manual clock over the real read models: expiry alerts follow the
// renewal policy's channel matrix exactly once per (certificate, threshold, channel); delivery
// retries with backoff, dies after 5 attempts and is requeued; a real HTTP notifier against a
// local PagerDuty-like endpoint that answers 503 then 202 delivers exactly once. No sleeps:
// time moves by setting the clock.
#define BOOST_TEST_MODULE actors_notifications
#include <httplib.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>

#include "actors/schedulers/expiry_alerts.hpp"
#include "actors/schedulers/notification_delivery.hpp"
#include "actors/schedulers/notification_scheduler.hpp"
#include "connectors/fakes.hpp"
#include "connectors/notifiers/registrations.hpp"
#include "projections/notification_projection.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"
#include "tests/support/subprocess.hpp"
#include "tools/server/notification_source_adapter.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

/// The scheduler fixture plus the notifications read model, a channel set of fake notifiers
/// (one per channel, id = channel name) and both loops.
struct world : scheduler_fixture {
  std::shared_ptr<connectors::fakes::journal> journal =
      std::make_shared<connectors::fakes::journal>();
  connectors::channel_set channels;
  server::notification_source_adapter nsource{db};
  schedulers::expiry_alerts alerts{runtime, nsource};
  std::vector<schedulers::delivery_attempt> attempts;
  schedulers::notification_delivery delivery{
      runtime, nsource, channels, {200, [this](const schedulers::delivery_attempt& a) {
                                     attempts.push_back(a);
                                   }}};

  explicit world(std::vector<std::string> fake_channels = {"Email", "Slack", "PagerDuty",
                                                           "OpsGenie"}) {
    BOOST_REQUIRE(projector.add(std::make_shared<projections::notification_projection>()).ok());
    auto reg = connectors::fakes::fake_notifier_registration(journal);
    for (const auto& c : fake_channels) {
      events::json_object cfg;
      cfg.set("channel", c);
      auto n = reg.make({c, cfg});
      BOOST_REQUIRE(n.ok());
      channels.add(*n);
    }
    BOOST_REQUIRE(
        exec("owner", "owner.create", "o-1", R"({"name":"Ops","email":"ops@example.test"})").ok());
  }

  /// One alert tick and one delivery tick at `t`, with the read models caught up before each.
  void run(events::timestamp_us t) {
    at(t);
    project();
    alerts.tick(t);
    project();
    delivery.tick(t);
    project();
  }

  /// "Slack info", "Email warning", ... of every send so far, in order.
  std::vector<std::string> sends() const {
    std::vector<std::string> out;
    for (const auto& c : journal->calls()) {
      if (c.rfind("send ", 0) != 0) continue;
      const auto sp1 = c.find(' ', 5);
      const auto sp2 = c.find(' ', sp1 + 1);
      out.push_back(c.substr(5, sp2 - 5));
    }
    return out;
  }

  events::json_object notification(const std::string& id) {
    project();
    auto doc = projections::get_notification(*db, id);
    BOOST_REQUIRE(doc.ok() && doc->has_value());
    return events::json_object::parse(**doc).value();
  }
};

const char* matrix_policy =
    R"("alert_channels":{"informational":["Slack"],"warning":["Slack","Email"],)"
    R"("critical":["PagerDuty","OpsGenie","Email"]})";

}  // namespace

BOOST_AUTO_TEST_SUITE(notification_loops)

BOOST_AUTO_TEST_CASE(an_expiring_certificate_gets_exactly_the_alerts_its_matrix_names_once) {
  world w;
  w.policy("rp-matrix", matrix_policy);
  w.active_certificate("mc-1", "rp-matrix", t0 + 31 * us_per_day);
  const std::string expires = events::format_rfc3339(t0 + 31 * us_per_day);

  w.run(t0);  // 31 days left: no threshold crossed
  BOOST_TEST(w.sends().empty());

  w.run(t0 + us_per_day + us_per_second);  // 29 whole days left: the 30-day tier
  BOOST_TEST(w.sends() == std::vector<std::string>{"Slack info"});
  for (int d = 2; d <= 16; ++d) w.run(t0 + d * us_per_day);  // nothing new until 14 days
  BOOST_TEST(w.sends().size() == 1u);

  w.run(t0 + 17 * us_per_day);                // 14 days left
  w.run(t0 + 24 * us_per_day);                // 7 days left
  w.run(t0 + 30 * us_per_day + us_per_hour);  // under a day left
  for (int h = 2; h < 20; ++h) w.run(t0 + 30 * us_per_day + h * us_per_hour);
  const std::vector<std::string> expected{
      "Slack info",    "Slack warning",      "Email warning",     "Slack warning",
      "Email warning", "PagerDuty critical", "OpsGenie critical", "Email critical"};
  BOOST_TEST(w.sends() == expected, boost::test_tools::per_element());

  // Email went to the certificate owner; each alert is its own notification, all sent.
  const auto email0 = w.notification(schedulers::expiry_alert_id("mc-1", expires, 0, "Email"));
  BOOST_TEST(email0.str("recipient") == "ops@example.test");
  BOOST_TEST(email0.str("status") == "sent");
  BOOST_TEST(email0.str("type") == "ExpirationWarning");
  BOOST_TEST(email0.str_map("details").at("threshold_days") == "0");
  BOOST_TEST(w.events_of("notification.created").size() == 8u);
  BOOST_TEST(w.events_of("notification.sent").size() == 8u);
}

BOOST_AUTO_TEST_CASE(ticks_on_a_lagging_read_model_queue_and_send_nothing_twice) {
  world w;
  w.policy("rp-matrix", matrix_policy);
  w.active_certificate("mc-1", "rp-matrix", t0 + 3 * us_per_day);  // 7-day tier: Slack, Email
  w.at(t0);
  w.project();
  w.alerts.tick(t0);
  w.alerts.tick(t0 + us_per_second);  // the read model has not seen the first tick's work
  w.project();
  w.delivery.tick(t0 + 2 * us_per_second);
  w.delivery.tick(t0 + 3 * us_per_second);  // the read model still shows them pending
  w.project();
  w.delivery.tick(t0 + 4 * us_per_second);
  BOOST_TEST(w.sends() == (std::vector<std::string>{"Slack warning", "Email warning"}));
  BOOST_TEST(w.events_of("notification.created").size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_policy_without_a_channel_matrix_alerts_by_email_at_the_default_thresholds) {
  world w;
  w.policy("rp-plain", "");
  w.active_certificate("mc-2", "rp-plain", t0 + 10 * us_per_day);
  w.run(t0);
  BOOST_TEST(w.sends() == std::vector<std::string>{"Email warning"});  // 14-day tier
}

BOOST_AUTO_TEST_CASE(a_failing_channel_does_not_hold_back_the_others_and_is_retried_once) {
  world w;
  w.policy("rp-matrix", matrix_policy);
  w.active_certificate("mc-1", "rp-matrix", t0 + us_per_hour);  // critical tier at once
  w.at(t0);
  w.project();
  w.alerts.tick(t0);
  w.project();
  w.journal->fail_next("HTTP 503");  // the first delivery (PagerDuty) fails
  w.delivery.tick(t0);
  w.project();
  BOOST_TEST(w.sends() == (std::vector<std::string>{"PagerDuty critical", "OpsGenie critical",
                                                    "Email critical"}));
  const std::string expires = events::format_rfc3339(t0 + us_per_hour);
  const std::string pd = schedulers::expiry_alert_id("mc-1", expires, 0, "PagerDuty");
  BOOST_TEST(w.notification(pd).str("status") == "failed");
  BOOST_TEST(w.notification(pd).str("next_retry_at") ==
             events::format_rfc3339(t0 + 2 * us_per_minute));
  // The alert loop does not queue it again; the delivery loop waits for the backoff.
  w.run(t0 + us_per_minute);
  BOOST_TEST(w.sends().size() == 3u);
  w.run(t0 + 2 * us_per_minute);
  BOOST_TEST(w.sends().size() == 4u);
  BOOST_TEST(w.sends().back() == "PagerDuty critical");
  BOOST_TEST(w.notification(pd).str("status") == "sent");
  BOOST_TEST(w.notification(pd).int64("retry_count") == 1);
  w.run(t0 + us_per_hour);
  BOOST_TEST(w.sends().size() == 4u);
  BOOST_TEST(w.attempts.size() == 4u);
}

BOOST_AUTO_TEST_CASE(five_failed_attempts_make_a_notification_dead_until_requeued) {
  world w;
  BOOST_REQUIRE(w.exec("notification", "notification.create", "n-1",
                       R"({"type":"RenewalFailure","channel":"Slack","message":"renewal failed"})")
                    .ok());
  events::timestamp_us t = t0;
  const std::int64_t waits[] = {2, 4, 8, 16};
  for (int i = 0; i < 5; ++i) {
    w.journal->fail_next("HTTP 500");
    w.at(t);
    w.project();
    w.delivery.tick(t);
    if (i < 4) t += waits[i] * us_per_minute;
  }
  const auto dead = w.notification("n-1");
  BOOST_TEST(dead.str("status") == "dead");
  BOOST_TEST(dead.int64("retry_count") == 5);
  BOOST_TEST(dead.str("last_error").find("HTTP 500") != std::string::npos);
  BOOST_TEST(w.attempts.back().dead);
  BOOST_TEST(projections::count_dead_notifications(*w.db).value() == 1);
  w.run(t + us_per_day);  // dead stays dead
  BOOST_TEST(w.sends().size() == 5u);

  BOOST_REQUIRE(w.exec("notification", "notification.requeue", "n-1").ok());
  w.run(t + us_per_day + us_per_second);
  BOOST_TEST(w.notification("n-1").str("status") == "sent");
  BOOST_TEST(w.sends().size() == 6u);
  BOOST_TEST(projections::count_dead_notifications(*w.db).value() == 0);
}

BOOST_AUTO_TEST_CASE(a_channel_the_server_does_not_have_is_dead_at_once) {
  world w({"Email"});
  BOOST_REQUIRE(w.exec("notification", "notification.create", "n-1",
                       R"({"type":"Revocation","channel":"Teams","message":"revoked"})")
                    .ok());
  w.run(t0);
  const auto n = w.notification("n-1");
  BOOST_TEST(n.str("status") == "dead");
  BOOST_TEST(n.str("last_error").find("no Teams channel") != std::string::npos);
  BOOST_TEST(w.sends().empty());
}

BOOST_AUTO_TEST_CASE(a_vendor_endpoint_answering_503_then_202_gets_exactly_one_delivery) {
  // A local HTTPS endpoint following PagerDuty's Events API v2, failing its first request.
  const auto dir =
      std::filesystem::temp_directory_path() / ("certctl-notif-loop-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto made = testing::run_shell(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
      "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string());
  BOOST_REQUIRE(made.exit_code == 0);
  httplib::SSLServer server((dir / "cert.pem").c_str(), (dir / "key.pem").c_str());
  int requests = 0, accepted = 0;
  server.Post("/v2/enqueue", [&](const httplib::Request& req, httplib::Response& res) {
    if (++requests == 1) {
      res.status = 503;
      return;
    }
    auto j = events::json_object::parse(req.body);
    BOOST_CHECK(j && j->str("routing_key") == "pd-routing-key-secret");
    ++accepted;
    res.status = 202;
    res.set_content(R"({"status":"success","message":"Event processed","dedup_key":"k"})",
                    "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server.is_running(); ++i)  // a stop() before it would be lost
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  world w(std::vector<std::string>{});
  connectors::connector_registry registry;
  connectors::builtin_context ctx;
  static const net::outbound_guard loopback({*net::parse_cidr("127.0.0.1/32")});
  ctx.outbound = &loopback;
  BOOST_REQUIRE(connectors::register_pagerduty_notifier(registry, ctx).ok());
  auto set = connectors::make_channels(
      registry, {{"PagerDuty", "pd",
                  events::json_object::parse(
                      R"({"routing_key":"pd-routing-key-secret","events_url":"https://127.0.0.1:)" +
                      std::to_string(port) + R"(/v2/enqueue","ca_bundle_path":")" +
                      (dir / "cert.pem").string() + "\"}")
                      .value()}});
  BOOST_REQUIRE_MESSAGE(set.ok(), (set.ok() ? std::string() : set.error()));
  schedulers::notification_delivery delivery(w.runtime, w.nsource, *set);
  BOOST_REQUIRE(w.exec("notification", "notification.create", "n-pd",
                       R"({"type":"ExpirationWarning","channel":"PagerDuty","severity":"critical",
                           "certificate_id":"mc-1","message":"expires today"})")
                    .ok());
  for (std::int64_t m : {0, 1, 2, 3, 60, 120}) {
    w.at(t0 + m * us_per_minute);
    w.project();
    delivery.tick(t0 + m * us_per_minute);
  }
  server.stop();
  serving.join();
  std::filesystem::remove_all(dir);
  BOOST_TEST(requests == 2);
  BOOST_TEST(accepted == 1);
  const auto n = w.notification("n-pd");
  BOOST_TEST(n.str("status") == "sent");
  BOOST_TEST(n.int64("retry_count") == 1);
  BOOST_TEST(n.str("last_error").find("HTTP 503") != std::string::npos);
  // The routing key is in no event.
  for (const auto& e : w.all_events())
    BOOST_TEST(e.payload.find("pd-routing-key-secret") == std::string::npos, e.type);
}

BOOST_AUTO_TEST_CASE(the_scheduler_runs_each_loop_by_its_own_period_on_the_clock) {
  infra::manual_clock clock(t0);
  int fast = 0, slow = 0;
  schedulers::notification_scheduler s(clock, {{"fast", std::chrono::seconds(30),
                                                [&](events::timestamp_us n) {
                                                  ++fast;
                                                  return schedulers::start_report("fast", n);
                                                }},
                                               {"digest", std::chrono::hours(24),
                                                [&](events::timestamp_us n) {
                                                  ++slow;
                                                  return schedulers::start_report("digest", n);
                                                },
                                                false}});
  s.tick(t0);
  BOOST_TEST(fast == 1);
  BOOST_TEST(slow == 0);  // the digest waits for its first period
  s.tick(t0 + 10 * us_per_second);
  BOOST_TEST(fast == 1);
  s.tick(t0 + 30 * us_per_second);
  BOOST_TEST(fast == 2);
  s.tick(t0 + us_per_day);
  BOOST_TEST(slow == 1);
}

BOOST_AUTO_TEST_SUITE_END()
