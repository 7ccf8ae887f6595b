// The health probe loop on a manual clock over the real read model: due checks are probed on
// the worker pool (never on the ticking thread), each outcome becomes the check's status, and
// a lagging read model does not double a probe.
#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/schedulers/health_probe.hpp"
#include "domain/discovery.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "projections/health_check_projection.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"
#include "tools/server/health_check_adapter.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

const std::string fp_a(64, 'a');
const std::string fp_b(64, 'b');

/// A scripted endpoint: answers what the test last set, counts probes, notes the threads.
struct scripted_prober {
  std::mutex mu;
  schedulers::probe_outcome next;
  std::map<std::string, int> probes;  ///< endpoint -> count
  std::set<std::thread::id> threads;

  void serve(const std::string& fp, std::int64_t not_after) {
    std::lock_guard<std::mutex> lock(mu);
    next = {};
    next.ok = true;
    next.fingerprint_sha256_hex = fp;
    next.not_after = not_after;
    next.response_time_ms = 3;
  }
  /// Serves a real certificate (with a chain), as the TLS probe would read it.
  void serve_pem(const std::string& pem, const std::vector<std::string>& chain) {
    auto info = crypto::parse_certificate(pem);
    BOOST_REQUIRE(info.ok());
    serve(info->fingerprint_sha256_hex, info->not_after);
    std::lock_guard<std::mutex> lock(mu);
    next.pem = pem;
    next.chain = chain;
    next.tls_version = "TLSv1.3";
  }
  void refuse() {
    std::lock_guard<std::mutex> lock(mu);
    next = {};
    next.failure_reason = "connect_failed: connection refused";
  }
  int count(const std::string& endpoint) {
    std::lock_guard<std::mutex> lock(mu);
    return probes[endpoint];
  }
  schedulers::endpoint_prober fn() {
    return [this](const schedulers::health_probe_target& t) {
      std::lock_guard<std::mutex> lock(mu);
      ++probes[t.endpoint];
      threads.insert(std::this_thread::get_id());
      return next;
    };
  }
};

std::string self_signed(const std::string& cn, bool is_ca) {
  auto key = crypto::generate_key();
  BOOST_REQUIRE(key.ok());
  crypto::certificate_template t;
  t.public_key_der = key->public_key.spki_der;
  t.subject.common_name = cn;
  t.is_ca = is_ca;
  t.not_before = 1790000000;
  t.not_after = 1790000000 + 86400 * 30;
  auto pem = crypto::self_sign(key->pem, t);
  BOOST_REQUIRE(pem.ok());
  return *pem;
}

std::string discovered_id(const std::string& pem) {
  auto info = crypto::parse_certificate(pem);
  BOOST_REQUIRE(info.ok());
  return domain::discovered_certificate_id(info->fingerprint_sha256_hex);
}

struct health_fixture : scheduler_fixture {
  server::health_check_adapter due{db};
  health_fixture() {
    BOOST_REQUIRE(projector.add(std::make_shared<projections::health_check_projection>()).ok());
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(health_probe)

BOOST_AUTO_TEST_CASE(due_checks_are_probed_off_the_tick_thread_and_their_status_follows) {
  health_fixture f;
  BOOST_REQUIRE(f.exec("health_check", "health_check.create", "hc-1",
                       R"({"endpoint":"web.test:443","check_interval_seconds":60,
                           "failure_threshold":2,"expected_fingerprint":")" +
                           fp_a + "\"}")
                    .ok());
  BOOST_REQUIRE(f.exec("health_check", "health_check.create", "hc-off",
                       R"({"endpoint":"off.test:443","enabled":false})")
                    .ok());
  f.project();
  scripted_prober endpoint;
  endpoint.serve(fp_a, t0 / us_per_second + 90 * 86400);
  schedulers::health_probe_loop loop(f.runtime, f.due, f.clock, endpoint.fn(), {2, 16, 200});

  auto r = loop.tick(f.at(t0));
  BOOST_TEST(r.count("health_check.probe") == 1u);  // the disabled check is left alone
  loop.drain();
  BOOST_TEST(f.view("health_check", "hc-1").str("status") == "Healthy");
  BOOST_TEST(endpoint.count("off.test:443") == 0);
  BOOST_TEST(endpoint.threads.count(std::this_thread::get_id()) == 0u);

  // Before the interval has passed nothing is due, whether or not the read model caught up.
  BOOST_TEST(loop.tick(f.at(t0 + 30 * us_per_second)).actions.empty());
  f.project();
  BOOST_TEST(loop.tick(f.at(t0 + 59 * us_per_second)).actions.empty());

  // Another certificate is served: a mismatch, recorded by the loop's principal.
  endpoint.serve(fp_b, t0 / us_per_second + 90 * 86400);
  BOOST_TEST(loop.tick(f.at(t0 + 61 * us_per_second)).count("health_check.probe") == 1u);
  loop.drain();
  BOOST_TEST(f.view("health_check", "hc-1").str("status") == "CertMismatch");
  auto changed = f.events_of("health_check.status_changed");
  BOOST_REQUIRE(changed.size() == 2u);
  BOOST_TEST(changed[1].principal == "system:health");

  // The endpoint stops answering: Down at the second failure, not the first.
  endpoint.refuse();
  f.project();
  loop.tick(f.at(t0 + 122 * us_per_second));
  loop.drain();
  BOOST_TEST(f.view("health_check", "hc-1").str("status") == "CertMismatch");
  BOOST_TEST(f.view("health_check", "hc-1").int64("consecutive_failures") == 1);
  f.project();
  loop.tick(f.at(t0 + 183 * us_per_second));
  loop.drain();
  BOOST_TEST(f.view("health_check", "hc-1").str("status") == "Down");
  BOOST_TEST(endpoint.count("web.test:443") == 4);

  // The read model shows the same, and keeps every probe as history.
  f.project();
  auto summary = projections::health_check_summary_json(*f.db);
  BOOST_REQUIRE(summary.ok());
  BOOST_TEST(*summary == R"({"healthy":0,"degraded":0,"down":1,"cert_mismatch":0})");
  auto history = projections::health_check_history(*f.db, "hc-1", 10);
  BOOST_REQUIRE(history.ok());
  BOOST_TEST(history->total == 4);
  BOOST_TEST(events::json_object::parse(history->data.front()).value().str("status") == "Down");
}

BOOST_AUTO_TEST_CASE(in_a_cluster_a_node_probes_only_the_checks_it_owns) {
  health_fixture f;
  for (const char* id : {"hc-1", "hc-2", "hc-3"})
    BOOST_REQUIRE(
        f.exec("health_check", "health_check.create", id, R"({"endpoint":"web.test:443"})").ok());
  f.project();
  server::health_check_adapter owned(
      f.db, [](const std::string& stream) { return stream == "health_check-hc-2"; });
  std::string error;
  auto due = owned.due(t0, 10, error);
  BOOST_TEST(error.empty());
  BOOST_REQUIRE(due.size() == 1u);
  BOOST_TEST(due[0].id == "hc-2");
  BOOST_TEST(f.due.due(t0, 2, error).size() == 2u);  // a single node: all, up to the limit
}

BOOST_AUTO_TEST_CASE(what_a_check_sees_joins_the_inventory_once_per_served_certificate) {
  health_fixture f;
  BOOST_REQUIRE(f.exec("health_check", "health_check.create", "hc-inv",
                       R"({"endpoint":"shop.test:443","check_interval_seconds":60})")
                    .ok());
  f.project();
  const std::string ca = self_signed("Shop CA", true), a = self_signed("shop.test", false),
                    b = self_signed("shop.test", false);
  scripted_prober endpoint;
  endpoint.serve_pem(a, {ca});
  schedulers::health_probe_loop loop(f.runtime, f.due, f.clock, endpoint.fn(), {1, 16, 200});
  for (int minute = 0; minute < 3; ++minute) {  // the same certificate three times
    loop.tick(f.at(t0 + minute * 61 * us_per_second));
    loop.drain();
    f.project();
  }
  BOOST_TEST(f.events_of("discovery_scan.completed").size() == 1u);
  auto leaf = f.runtime.read("discovered_certificate", discovered_id(a));
  BOOST_REQUIRE(leaf.ok());
  BOOST_TEST(leaf->view.str("source") == "health-check");
  BOOST_TEST(leaf->view.str("agent_id") == "server-scanner");
  BOOST_TEST(leaf->view.str("source_path") == "shop.test:443");
  BOOST_TEST(leaf->view.object_array("locations").front().str("tls_version") == "TLSv1.3");
  auto issuing = f.runtime.read("discovered_certificate", discovered_id(ca));
  BOOST_REQUIRE(issuing.ok());
  BOOST_TEST(issuing->view.boolean("is_ca"));

  endpoint.serve_pem(b, {ca});  // a new certificate is served: it joins the inventory
  loop.tick(f.at(t0 + 4 * 61 * us_per_second));
  loop.drain();
  BOOST_TEST(f.events_of("discovery_scan.completed").size() == 2u);
  BOOST_TEST(f.runtime.read("discovered_certificate", discovered_id(b)).ok());
  BOOST_TEST(
      f.runtime.read("discovered_certificate", discovered_id(ca))->view.int64("times_seen") == 2);
}

BOOST_AUTO_TEST_CASE(a_read_model_failure_is_reported_and_probes_nothing) {
  health_fixture f;
  scripted_prober endpoint;
  schedulers::health_probe_loop loop(f.runtime, f.due, f.clock, endpoint.fn());
  f.project();  // creates the tables
  BOOST_REQUIRE(f.db->exec("DROP TABLE health_checks", {}).ok());
  auto r = loop.tick(f.at(t0));
  BOOST_TEST(r.actions.empty());
  BOOST_REQUIRE(r.errors.size() == 1u);
  BOOST_TEST(r.errors[0].find("health checks due") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
