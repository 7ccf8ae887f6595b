// Asynchronous CA orders as job state (issuance service + order poller), ARI-driven renewal,
// and the per-issuer concurrency bound, over the real read models on a manual clock.
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "actors/schedulers/ari_check.hpp"
#include "actors/schedulers/job_timeout.hpp"
#include "actors/schedulers/order_poll.hpp"
#include "actors/schedulers/renewal_check.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "connectors/issuers/issuer.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/random.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

/// An asynchronous CA: issue() answers with order "ord-1"; get_order_status() answers
/// `pending_polls` times "pending", then `final_state` (with a certificate when valid).
class async_issuer final : public connectors::issuer {
 public:
  int pending_polls = 2;
  connectors::order_state final_state = connectors::order_state::valid;
  int polls = 0;
  std::string ca_state;             ///< what a pending answer says it waits for
  std::int64_t retry_after_us = 0;  ///< a pending answer's Retry-After
  std::int64_t own_timeout = 0;     ///< capabilities().order_timeout_seconds
  bool can_cancel = false;          ///< capabilities().cancel_orders
  bool cancel_fails = false;
  std::vector<std::string> cancelled;  ///< cancel_order() calls

  std::string_view type() const override { return "FakeAsync"; }
  const std::string& id() const override { return id_; }
  connectors::issuer_capabilities capabilities() const override {
    connectors::issuer_capabilities c;
    c.async_orders = true;
    c.cancel_orders = can_cancel;
    c.order_timeout_seconds = own_timeout;
    return c;
  }
  result<done, connectors::issuer_error> cancel_order(const std::string& order_id) override {
    cancelled.push_back(order_id);
    if (cancel_fails)
      return connectors::issuer_error{connectors::issuer_errc::invalid_request,
                                      "the CA refused: order already issued"};
    return done{};
  }
  result<connectors::issued_certificate, connectors::issuer_error> issue(
      const connectors::issuance_request&) override {
    connectors::issued_certificate pending;
    pending.order_id = "ord-1";
    return pending;
  }
  result<connectors::order_status, connectors::issuer_error> get_order_status(
      const std::string& order_id) override {
    connectors::order_status s;
    s.order_id = order_id;
    if (++polls <= pending_polls) {
      s.message = "the CA is issuing";
      s.ca_state = ca_state;
      s.retry_after_us = retry_after_us;
      return s;
    }
    s.state = final_state;
    if (final_state == connectors::order_state::valid) {
      s.certificate.cert_pem = "-----BEGIN CERTIFICATE-----\nleaf\n";
      s.certificate.serial_hex = "0A0B";
      s.certificate.not_before_us = t0;
      s.certificate.not_after_us = t0 + 90 * us_per_day;
      s.certificate.fingerprint_sha256_hex = "ab";
    } else {
      s.message = "challenge failed";
    }
    return s;
  }
  std::string ca_chain_pem() const override { return {}; }

 private:
  std::string id_ = "iss-async";
};

struct order_fixture : scheduler_fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("certctl-orders-" + crypto::random_hex(6));
  crypto::key_store keys =
      crypto::key_store::open(dir.string(), crypto::generate_aead_key()).value();
  async_issuer ca;
  actors::issuance_service issuance{runtime, ca, keys, 1};

  order_fixture() {
    actors::order_policy p;
    p.ladder = {std::chrono::seconds(2), std::chrono::seconds(2), std::chrono::seconds(4),
                std::chrono::seconds(8)};
    p.jitter = 0;  // the ladder itself; order_schedule_test covers the jitter
    p.order_timeout = std::chrono::hours(1);
    p.now = [this] { return clock.now(); };
    issuance.set_order_policy(std::move(p));
    BOOST_REQUIRE(exec("certificate", "certificate.create", "mc-1",
                       R"({"name":"a","common_name":"a.example.com","renewal_policy_id":"rp-1",
                           "issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1"})")
                      .ok());
    BOOST_REQUIRE(
        exec("job", "job.create", "job-1", R"({"type":"Issuance","certificate_id":"mc-1"})").ok());
  }
  ~order_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  actors::issuance_task task(bool poll) {
    actors::issuance_task t;
    t.certificate_id = "mc-1";
    t.job_id = "job-1";
    t.certificate = view("certificate", "mc-1");
    t.poll_order = poll;
    return t;
  }

  /// One tick of the order poller at `now`, each hand-off run here and now; the polls made.
  size_t poll_at(events::timestamp_us now) {
    project();
    schedulers::order_poll_options o;
    size_t polled = 0;
    o.poll = [&](const schedulers::due_job& j, const std::string&) {
      BOOST_TEST(j.order_id == "ord-1");
      issuance.run(task(true));
      ++polled;
    };
    schedulers::order_poll loop(source, o);
    loop.tick(at(now));
    return polled;
  }
};

/// A CA whose issue() blocks until released: a hung network CA.
class blocking_issuer final : public connectors::issuer {
 public:
  std::string_view type() const override { return "FakeHang"; }
  const std::string& id() const override { return id_; }
  result<connectors::issued_certificate, connectors::issuer_error> issue(
      const connectors::issuance_request&) override {
    std::unique_lock<std::mutex> lock(mu);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return released; });
    return connectors::issuer_error{connectors::issuer_errc::unavailable, "timed out"};
  }
  std::string ca_chain_pem() const override { return {}; }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  int entered = 0;
  bool released = false;

 private:
  std::string id_ = "iss-hang";
};

}  // namespace

BOOST_AUTO_TEST_SUITE(order_loops)

BOOST_AUTO_TEST_CASE(an_async_order_is_job_state_polled_with_bounded_backoff_until_issued) {
  order_fixture f;
  f.issuance.run(f.task(false));
  // The attempt ended with an order, recorded on the job; the CSR and key wait in the key store.
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Running");
  BOOST_TEST(job.str("order_state") == "pending");
  BOOST_TEST(job.str("order_id") == "ord-1");
  BOOST_TEST(job.str("scheduled_at") == events::format_rfc3339(t0 + 2 * us_per_second));
  BOOST_TEST(f.keys.contains("order-job-1-csr"));
  BOOST_TEST(f.keys.contains("order-job-1-key"));
  BOOST_TEST(!f.keys.contains("mc-1"));
  BOOST_TEST(f.events_of("job.order_pending").size() == 1u);
  const auto pending = payload_of(f.events_of("job.order_pending")[0]);
  BOOST_TEST(pending.str("issuer_id") == "iss-async");
  BOOST_TEST(pending.str("keygen") == "server");

  // Not due yet: nothing asked. Then polls back off 2 s, 4 s, 8 s (the cap).
  BOOST_TEST(f.poll_at(t0 + us_per_second) == 0u);
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_second) == 1u);
  BOOST_TEST(f.job("job-1").str("scheduled_at") == events::format_rfc3339(t0 + 4 * us_per_second));
  BOOST_TEST(f.job("job-1").str("order_message") == "the CA is issuing");
  BOOST_TEST(f.poll_at(t0 + 4 * us_per_second) == 1u);
  BOOST_TEST(f.job("job-1").str("scheduled_at") == events::format_rfc3339(t0 + 8 * us_per_second));
  BOOST_TEST(f.events_of("job.order_polled").size() == 2u);

  // A Running job with a pending order is the poller's, not the stuck-job timeout's.
  f.project();
  schedulers::job_timeout timeouts(f.runtime, f.source);
  BOOST_TEST(timeouts.tick(f.at(t0 + 40 * us_per_minute)).actions.empty());

  BOOST_TEST(f.poll_at(t0 + 40 * us_per_minute) == 1u);  // valid now
  job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Completed");
  BOOST_TEST(job.str("order_state") == "valid");
  BOOST_TEST(job.int64("attempts") == 1);
  BOOST_TEST(f.view("certificate", "mc-1").str("status") == "Active");
  // The key moved to the certificate's version (crypto::certificate_key_id).
  const auto issued = f.events_of("certificate.issued");
  BOOST_TEST_REQUIRE(issued.size() == 1u);
  BOOST_TEST(
      f.keys.contains(crypto::certificate_key_id("mc-1", payload_of(issued[0]).str("version_id"))));
  BOOST_TEST(!f.keys.contains("mc-1"));
  BOOST_TEST(!f.keys.contains("order-job-1-csr"));
  BOOST_TEST(!f.keys.contains("order-job-1-key"));
  BOOST_TEST(payload_of(issued[0]).str("issuer_id") == "iss-async");
  BOOST_TEST(f.poll_at(t0 + 41 * us_per_minute) == 0u);  // nothing left to follow
}

BOOST_AUTO_TEST_CASE(an_order_the_ca_declares_invalid_fails_the_attempt_for_a_retry) {
  order_fixture f;
  f.ca.pending_polls = 0;
  f.ca.final_state = connectors::order_state::invalid;
  f.issuance.run(f.task(false));
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_second) == 1u);
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Pending");  // retried per its attempts
  BOOST_TEST(job.str("last_error") == "issuer iss-async: order ord-1 is invalid: challenge failed");
  BOOST_TEST(job.str("order_state") == "invalid");
  BOOST_TEST(!f.keys.contains("order-job-1-csr"));
}

BOOST_AUTO_TEST_CASE(an_order_pending_past_its_deadline_fails_the_attempt) {
  order_fixture f;
  f.ca.pending_polls = 1000;
  f.issuance.run(f.task(false));
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_second) == 1u);
  BOOST_TEST(f.job("job-1").str("status") == "Running");
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_hour) == 1u);
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Pending");
  BOOST_TEST(job.str("last_error") == "issuer iss-async: order ord-1 still pending after 3600 s");
}

BOOST_AUTO_TEST_CASE(an_order_waiting_for_approval_shows_it_on_the_job) {
  order_fixture f;
  f.ca.ca_state = "pending_approval";
  f.issuance.run(f.task(false));
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_second) == 1u);
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Running");  // a JobStatus the API knows
  BOOST_TEST(job.str("order_state") == "pending");
  BOOST_TEST(job.str("order_ca_state") == "pending_approval");
  BOOST_TEST(job.str("order_message") == "the CA is issuing");
  BOOST_TEST(payload_of(f.events_of("job.order_polled")[0]).str("ca_state") == "pending_approval");
}

BOOST_AUTO_TEST_CASE(a_retry_after_is_the_floor_of_the_next_poll) {
  order_fixture f;
  f.ca.ca_state = "rate_limited";
  f.ca.retry_after_us = t0 + 90 * us_per_second;  // far beyond the ladder's 2 s
  f.issuance.run(f.task(false));
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_second) == 1u);
  BOOST_TEST(f.job("job-1").str("scheduled_at") == events::format_rfc3339(t0 + 90 * us_per_second));
  BOOST_TEST(f.job("job-1").str("order_ca_state") == "rate_limited");
  BOOST_TEST(f.poll_at(t0 + 60 * us_per_second) == 0u);  // not before the CA's time
  BOOST_TEST(f.poll_at(t0 + 90 * us_per_second) == 1u);
}

BOOST_AUTO_TEST_CASE(the_issuers_own_deadline_replaces_the_servers) {
  order_fixture f;
  f.ca.pending_polls = 1000;
  f.ca.own_timeout = 30;  // the server's policy says 1 h
  f.issuance.run(f.task(false));
  BOOST_TEST(f.poll_at(t0 + 2 * us_per_second) == 1u);
  BOOST_TEST(f.job("job-1").str("status") == "Running");
  BOOST_TEST(f.poll_at(t0 + 31 * us_per_second) == 1u);
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Pending");
  BOOST_TEST(job.str("last_error") == "issuer iss-async: order ord-1 still pending after 30 s");
}

BOOST_AUTO_TEST_CASE(cancelling_a_job_withdraws_its_order_at_the_ca_on_a_worker) {
  order_fixture f;
  f.ca.can_cancel = true;
  f.issuance.run(f.task(false));
  BOOST_REQUIRE(f.exec("job", "job.cancel", "job-1", "{}").ok());
  auto t = f.task(false);
  t.cancel_order = true;
  f.issuance.run(t);
  BOOST_TEST(f.ca.cancelled == std::vector<std::string>{"ord-1"});
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Cancelled");
  BOOST_TEST(job.str("order_state") == "cancelled");
  BOOST_TEST(!job.has("order_cancel_error"));
  const auto recorded = f.events_of("job.order_cancelled");
  BOOST_REQUIRE(recorded.size() == 1u);
  BOOST_TEST(payload_of(recorded[0]).str("outcome") == "cancelled");
  BOOST_TEST(!f.keys.contains("order-job-1-csr"));
  // Once recorded, a second request changes nothing and asks the CA nothing.
  f.issuance.run(t);
  BOOST_TEST(f.ca.cancelled.size() == 1u);
  BOOST_TEST(f.poll_at(t0 + 10 * us_per_minute) == 0u);  // nothing left to follow
}

BOOST_AUTO_TEST_CASE(a_ca_that_refuses_the_cancel_is_reported_on_the_cancelled_job) {
  order_fixture f;
  f.ca.can_cancel = true;
  f.ca.cancel_fails = true;
  f.issuance.run(f.task(false));
  BOOST_REQUIRE(f.exec("job", "job.cancel", "job-1", "{}").ok());
  auto t = f.task(false);
  t.cancel_order = true;
  f.issuance.run(t);
  auto job = f.job("job-1");
  BOOST_TEST(job.str("status") == "Cancelled");  // cancelled here all the same
  BOOST_TEST(job.str("order_state") == "abandoned");
  BOOST_TEST(job.str("order_cancel_error") ==
             "issuer iss-async: the CA refused: order already issued");
  BOOST_TEST(payload_of(f.events_of("job.order_cancelled")[0]).str("outcome") == "failed");
}

BOOST_AUTO_TEST_CASE(an_issuer_without_cancel_leaves_the_order_and_says_so) {
  order_fixture f;
  f.issuance.run(f.task(false));
  BOOST_REQUIRE(f.exec("job", "job.cancel", "job-1", "{}").ok());
  auto t = f.task(false);
  t.cancel_order = true;
  f.issuance.run(t);
  BOOST_TEST(f.ca.cancelled.empty());
  BOOST_TEST(f.job("job-1").str("order_state") == "abandoned");
  BOOST_TEST(payload_of(f.events_of("job.order_cancelled")[0]).str("outcome") == "unsupported");
}

BOOST_AUTO_TEST_CASE(ari_renews_inside_the_cas_window_with_the_renewal_checks_ids) {
  scheduler_fixture f;
  f.policy("rp-1", R"("auto_renew":true,"renewal_window_days":30)");
  f.active_certificate("mc-1", "rp-1", t0 + 300 * us_per_day);
  f.active_certificate("mc-2", "rp-1", t0 + 300 * us_per_day);
  f.project();
  const schedulers::suggested_window window{t0 + us_per_day, t0 + 2 * us_per_day};
  schedulers::ari_check_options o;
  o.advice = [&](const schedulers::due_certificate& c)
      -> result<std::optional<schedulers::suggested_window>, std::string> {
    if (c.id == "mc-2") return std::optional<schedulers::suggested_window>{};  // no opinion
    return std::optional<schedulers::suggested_window>(window);
  };
  std::vector<actors::issuance_task> handed;
  schedulers::ari_check ari(
      f.runtime, f.source, [&](actors::issuance_task t) { handed.push_back(t); }, o);
  const auto point = schedulers::renewal_point(window, "mc-1");
  BOOST_TEST(point >= window.start);
  BOOST_TEST(point < window.end);
  BOOST_TEST(ari.tick(f.at(point - 1)).actions.empty());
  auto r = ari.tick(f.at(point));
  BOOST_TEST(r.count("certificate.renew") == 1u);
  BOOST_TEST(r.count("job.create") == 1u);
  BOOST_REQUIRE(handed.size() == 1u);
  BOOST_TEST(handed[0].certificate_id == "mc-1");
  // The threshold loop, once inside its own window, finds the renewal already under way.
  f.project();
  schedulers::renewal_check renewal(f.runtime, f.source,
                                    [&](actors::issuance_task t) { handed.push_back(t); });
  renewal.tick(f.at(t0 + 271 * us_per_day));
  size_t renewal_jobs = 0;
  for (const auto& e : f.events_of("job.created"))
    if (payload_of(e).str("certificate_id") == "mc-1") ++renewal_jobs;
  BOOST_TEST(renewal_jobs == 1u);
  // mc-2's CA had no opinion: the policy's threshold renews it (the fallback).
  BOOST_REQUIRE(handed.size() == 2u);
  BOOST_TEST(handed[1].certificate_id == "mc-2");
}

BOOST_AUTO_TEST_CASE(an_advice_error_is_reported_and_renews_nothing) {
  scheduler_fixture f;
  f.policy("rp-1", R"("auto_renew":true)");
  f.active_certificate("mc-1", "rp-1", t0 + 300 * us_per_day);
  f.project();
  schedulers::ari_check_options o;
  o.advice = [](const schedulers::due_certificate&)
      -> result<std::optional<schedulers::suggested_window>, std::string> {
    return std::string("ACME CA unreachable");
  };
  schedulers::ari_check ari(
      f.runtime, f.source, [](actors::issuance_task) {}, o);
  auto r = ari.tick(f.at(t0 + us_per_day));
  BOOST_TEST(r.actions.empty());
  BOOST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0] == "renewal info of mc-1: ACME CA unreachable");
}

BOOST_AUTO_TEST_CASE(a_hanging_issuer_holds_at_most_its_share_of_the_workers) {
  scheduler_fixture f;
  const auto dir =
      std::filesystem::temp_directory_path() / ("certctl-bound-" + crypto::random_hex(6));
  auto keys = crypto::key_store::open(dir.string(), crypto::generate_aead_key());
  BOOST_REQUIRE(keys.ok());
  async_issuer fine;  // the default issuer; answers at once
  fine.pending_polls = 0;
  blocking_issuer hang;
  {
    actors::issuance_service issuance(f.runtime, fine, *keys, 2);
    issuance.set_issuer_resolver(
        [&](const actors::issuance_task& t, std::string&) -> connectors::issuer* {
          return t.certificate.str("issuer_id") == "iss-hang" ? &hang : nullptr;
        });
    auto make = [&](const std::string& cert, const std::string& issuer) {
      BOOST_REQUIRE(f.exec("certificate", "certificate.create", cert,
                           R"({"name":"a","common_name":"a.example.com","issuer_id":")" + issuer +
                               R"(","renewal_policy_id":"rp-1","owner_id":"o-1","team_id":"t-1"})")
                        .ok());
      BOOST_REQUIRE(f.exec("job", "job.create", "job-" + cert,
                           R"({"type":"Issuance","certificate_id":")" + cert + "\"}")
                        .ok());
      actors::issuance_task t;
      t.certificate_id = cert;
      t.job_id = "job-" + cert;
      t.certificate = f.view("certificate", cert);
      return t;
    };
    // Two hanging tasks first: with two workers and no bound, both would be stuck.
    issuance.enqueue(make("mc-h1", "iss-hang"));
    issuance.enqueue(make("mc-h2", "iss-hang"));
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    issuance.enqueue(make("mc-ok", "iss-local"), [&] {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_all();
    });
    {
      std::unique_lock<std::mutex> lock(mu);
      BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done; }));
    }
    // The worker that took the first hanging task may not have reached the CA yet on a loaded
    // machine: wait for it, then the second hanging task must still wait in the queue.
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard<std::mutex> lock(hang.mu);
        if (hang.entered >= 1) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    {
      std::lock_guard<std::mutex> lock(hang.mu);
      BOOST_TEST(hang.entered == 1);
    }
    BOOST_TEST(f.view("job", "job-mc-ok").str("order_state") == "pending");
    hang.release();
  }  // the service drains its queue and joins
  BOOST_TEST(hang.entered == 2);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BOOST_AUTO_TEST_SUITE_END()
