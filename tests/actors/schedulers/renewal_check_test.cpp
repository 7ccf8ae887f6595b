// The renewal check over the real read models: status marking across expiry windows and
// auto-renewal that acts once however often (and on however many nodes) it ticks.
#include <boost/test/unit_test.hpp>

#include "actors/schedulers/renewal_check.hpp"
#include "actors/schedulers/short_lived_expiry.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"

using namespace certctl;
using namespace certctl::test;

BOOST_AUTO_TEST_SUITE(renewal_check)

BOOST_AUTO_TEST_CASE(an_active_certificate_becomes_expiring_then_expired) {
  scheduler_fixture f;
  f.policy("rp-manual", R"("auto_renew":false,"alert_thresholds_days":[14,7,0])");
  const auto expires = t0 + 60 * us_per_day;
  f.active_certificate("mc-1", "rp-manual", expires);
  f.project();
  schedulers::renewal_check loop(f.runtime, f.source, {});

  // 15 days left: outside the policy's widest alert threshold (14 days).
  BOOST_TEST(loop.tick(f.at(expires - 15 * us_per_day)).actions.empty());
  auto r = loop.tick(f.at(expires - 14 * us_per_day + us_per_second));
  BOOST_TEST(r.count("certificate.mark_status") == 1u);
  f.project();
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Expiring");
  // Still Expiring a week later: nothing new to say.
  loop.tick(f.at(expires - 7 * us_per_day));
  BOOST_TEST(f.events_of("certificate.status_changed").size() == 1u);

  r = loop.tick(f.at(expires));
  BOOST_TEST(r.count("certificate.mark_status") == 1u);
  f.project();
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Expired");
  const auto changes = f.events_of("certificate.status_changed");
  BOOST_REQUIRE(changes.size() == 2u);
  BOOST_TEST(payload_of(changes[0]).str("status") == "Expiring");
  BOOST_TEST(payload_of(changes[1]).str("status") == "Expired");
  BOOST_TEST(changes[1].principal == "system:renewal");
  // auto_renew is off: no renewal, no job.
  BOOST_TEST(f.events_of("certificate.renewal_requested").empty());
  BOOST_TEST(f.events_of("job.created").empty());
  // Expired certificates leave the query: later ticks do nothing.
  f.project();
  BOOST_TEST(loop.tick(f.at(expires + us_per_day)).actions.empty());
}

BOOST_AUTO_TEST_CASE(a_certificate_expired_between_ticks_goes_straight_to_expired) {
  scheduler_fixture f;
  f.policy("rp-manual", R"("auto_renew":false)");
  f.active_certificate("mc-1", "rp-manual", t0 + us_per_day);
  f.project();
  schedulers::renewal_check loop(f.runtime, f.source, {});
  loop.tick(f.at(t0 + 2 * us_per_day));
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Expired");
  BOOST_TEST(f.events_of("certificate.status_changed").size() == 1u);
}

BOOST_AUTO_TEST_CASE(auto_renew_creates_exactly_one_renewal_job_when_ticked_twice) {
  scheduler_fixture f;
  f.policy("rp-auto", R"("auto_renew":true,"renewal_window_days":20,"max_retries":2)");
  const auto expires = t0 + 60 * us_per_day;
  f.active_certificate("mc-1", "rp-auto", expires);
  f.project();
  std::vector<actors::issuance_task> handed;
  schedulers::renewal_check loop(f.runtime, f.source,
                                 [&](actors::issuance_task t) { handed.push_back(std::move(t)); });

  // Inside the alert window (30 days by default) but not the renewal window (20).
  auto r = loop.tick(f.at(expires - 25 * us_per_day));
  BOOST_TEST(r.count("certificate.mark_status") == 1u);
  BOOST_TEST(r.count("job.create") == 0u);
  f.project();

  const auto now = f.at(expires - 20 * us_per_day);
  r = loop.tick(now);
  BOOST_TEST(r.count("certificate.renew") == 1u);
  BOOST_TEST(r.count("job.create") == 1u);
  // The read model has not caught up: the second tick sees the certificate Expiring again.
  r = loop.tick(now + us_per_second);
  BOOST_TEST(r.count("certificate.renew") == 0u);
  BOOST_TEST(r.count("job.create") == 0u);
  f.project();
  BOOST_TEST(loop.tick(now + 2 * us_per_second).actions.empty());

  const auto jobs = f.events_of("job.created");
  BOOST_REQUIRE(jobs.size() == 1u);
  BOOST_TEST(f.events_of("certificate.renewal_requested").size() == 1u);
  const auto job = payload_of(jobs[0]);
  BOOST_TEST(job.str("type") == "Renewal");
  BOOST_TEST(job.str("certificate_id") == "mc-1");
  BOOST_TEST(job.int64("max_attempts") == 3);  // max_retries + 1
  BOOST_TEST(job.str("status") == "Pending");
  BOOST_TEST(jobs[0].principal == "system:renewal");
  BOOST_REQUIRE(handed.size() == 1u);
  BOOST_TEST(handed[0].job_id == jobs[0].stream_id.substr(4));
  BOOST_TEST(handed[0].certificate.str("common_name") == "mc-1.example.com");
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "RenewalInProgress");
}

BOOST_AUTO_TEST_CASE(two_nodes_ticking_at_once_renew_once) {
  scheduler_fixture f;
  f.policy("rp-auto", R"("auto_renew":true)");
  f.active_certificate("mc-1", "rp-auto", t0 + 10 * us_per_day);
  f.project();
  // A second node: its own runtime (entity actors) over the same log and read models.
  actors::entity_runtime other(*f.store, f.clock);
  schedulers::renewal_check here(f.runtime, f.source, {});
  schedulers::renewal_check there(other, f.source, {});
  const auto now = f.at(t0 + us_per_day);
  here.tick(now);
  there.tick(now);
  BOOST_TEST(f.events_of("certificate.renewal_requested").size() == 1u);
  BOOST_TEST(f.events_of("job.created").size() == 1u);
  BOOST_TEST(f.events_of("certificate.status_changed").size() == 1u);
}

BOOST_AUTO_TEST_CASE(auto_renew_off_never_creates_a_job) {
  scheduler_fixture f;
  f.policy("rp-manual", R"("auto_renew":false)");
  f.active_certificate("mc-1", "rp-manual", t0 + 10 * us_per_day);
  f.project();
  int handed = 0;
  schedulers::renewal_check loop(f.runtime, f.source, [&](actors::issuance_task) { ++handed; });
  for (int day = 1; day <= 12; ++day) {
    loop.tick(f.at(t0 + day * us_per_day));
    f.project();
  }
  BOOST_TEST(handed == 0);
  BOOST_TEST(f.events_of("job.created").empty());
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Expired");
}

BOOST_AUTO_TEST_CASE(in_agent_mode_the_renewal_job_awaits_a_csr) {
  scheduler_fixture f;
  f.policy("rp-auto", R"("auto_renew":true)");
  f.active_certificate("mc-1", "rp-auto", t0 + 10 * us_per_day);
  f.project();
  schedulers::renewal_check loop(f.runtime, f.source, {});  // no hand-off: agent keygen
  loop.tick(f.at(t0 + us_per_day));
  const auto jobs = f.events_of("job.created");
  BOOST_REQUIRE(jobs.size() == 1u);
  BOOST_TEST(payload_of(jobs[0]).str("status") == "AwaitingCSR");
}

BOOST_AUTO_TEST_CASE(an_expired_auto_renew_certificate_is_marked_and_renewed) {
  scheduler_fixture f;
  f.policy("rp-auto", R"("auto_renew":true)");
  f.active_certificate("mc-1", "rp-auto", t0 + us_per_day);
  f.project();
  schedulers::renewal_check loop(f.runtime, f.source, {});
  loop.tick(f.at(t0 + 2 * us_per_day));
  BOOST_TEST(
      f.stream_types("certificate-mc-1") ==
          (std::vector<std::string>{"certificate.created", "certificate.issued",
                                    "certificate.status_changed", "certificate.renewal_requested"}),
      boost::test_tools::per_element());
  BOOST_TEST(f.events_of("job.created").size() == 1u);
}

BOOST_AUTO_TEST_CASE(short_lived_certificates_expire_on_the_fast_loop_only_once) {
  scheduler_fixture f;
  BOOST_REQUIRE(f.exec("profile", "profile.create", "prof-short",
                       R"({"name":"short","allow_short_lived":true,"max_ttl_seconds":600})")
                    .ok());
  f.policy("rp-manual", R"("auto_renew":false)");
  f.active_certificate("mc-short", "rp-manual", t0 + 10 * us_per_minute, "prof-short");
  f.active_certificate("mc-long", "rp-manual", t0 + 5 * us_per_minute);  // not short-lived
  f.project();
  schedulers::short_lived_expiry fast(f.runtime, f.source);
  schedulers::renewal_check slow(f.runtime, f.source, {});

  BOOST_TEST(fast.tick(f.at(t0 + 9 * us_per_minute)).actions.empty());
  auto r = fast.tick(f.at(t0 + 10 * us_per_minute));
  BOOST_REQUIRE(r.actions.size() == 1u);
  BOOST_TEST(r.actions[0].entity_id == "mc-short");
  // The renewal check, on a stale read model, sees mc-short still Active: no second event.
  slow.tick(f.at(t0 + 11 * us_per_minute));
  std::vector<std::string> expired;
  for (const auto& e : f.events_of("certificate.status_changed"))
    if (payload_of(e).str("status") == "Expired") expired.push_back(e.stream_id);
  BOOST_TEST(expired == (std::vector<std::string>{"certificate-mc-short", "certificate-mc-long"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
