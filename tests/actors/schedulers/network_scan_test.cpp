// The network scanner with a scripted prober over the real entity runtime: a range expands to
// its hosts, the probes run on at most `concurrency` threads (none on the ticking thread), the
// outbound guard refuses reserved addresses before any probe, findings go through the one
// discovery pipeline (one discovered certificate per fingerprint, however often it is seen),
// and the periodic tick queues only enabled targets whose interval has passed.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "actors/schedulers/network_scan.hpp"
#include "domain/discovery.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

std::string self_signed(const std::string& cn, bool is_ca = false) {
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

net::ip_address ip(const std::string& text) {
  net::ip_address a;
  BOOST_REQUIRE(net::parse_ip(text, a));
  return a;
}

/// Serves `pem` on the listed ip:port pairs, nothing elsewhere; records concurrency and threads.
struct scripted_network {
  std::map<std::string, std::string> served;  ///< ip:port -> PEM
  std::vector<std::string> chain;             ///< what every endpoint sends after its leaf
  std::mutex mu;
  std::vector<std::string> probed;
  std::set<std::thread::id> threads;
  std::atomic<int> in_flight{0};
  std::atomic<int> peak{0};

  schedulers::scan_prober fn() {
    return [this](const net::ip_address& a, int port, std::int64_t) {
      const int now = ++in_flight;
      for (int p = peak; now > p && !peak.compare_exchange_weak(p, now);) {
      }
      // Long enough that the pool's threads overlap.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      schedulers::scan_probe_result r;
      const std::string at = schedulers::scan_source_path(a, port);
      {
        std::lock_guard<std::mutex> lock(mu);
        probed.push_back(at);
        threads.insert(std::this_thread::get_id());
        auto it = served.find(at);
        if (it != served.end()) {
          r.tls = true;
          r.pem = it->second;
          r.chain = chain;
          r.tls_version = "TLSv1.3";
        } else {
          r.error = "connect_failed: connection refused";
        }
      }
      --in_flight;
      return r;
    };
  }
};

std::string discovered_id(const std::string& pem) {
  auto info = crypto::parse_certificate(pem);
  BOOST_REQUIRE(info.ok());
  return domain::discovered_certificate_id(info->fingerprint_sha256_hex);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(network_scan)

BOOST_AUTO_TEST_CASE(a_range_expands_to_its_hosts) {
  BOOST_TEST(schedulers::scan_hosts("192.0.2.9").size() == 1u);
  BOOST_TEST(schedulers::scan_hosts("192.0.2.9/32").size() == 1u);
  const auto v4 = schedulers::scan_hosts("192.0.2.77/24");  // host bits ignored
  BOOST_REQUIRE(v4.size() == 254u);                         // no network, no broadcast
  BOOST_TEST(net::to_string(v4.front()) == "192.0.2.1");
  BOOST_TEST(net::to_string(v4.back()) == "192.0.2.254");
  BOOST_TEST(schedulers::scan_hosts("10.0.0.0/20").size() == 4094u);
  BOOST_TEST(net::to_string(schedulers::scan_hosts("10.0.0.0/20").back()) == "10.0.15.254");
  BOOST_TEST(schedulers::scan_hosts("10.0.0.0/31").size() == 2u);
  BOOST_TEST(schedulers::scan_hosts("2001:db8::/120").size() == 256u);
  BOOST_TEST(schedulers::scan_hosts("10.0.0.0/19").empty());  // past the cap
  BOOST_TEST(schedulers::scan_hosts("nonsense").empty());
  BOOST_TEST(schedulers::scan_source_path(ip("2001:db8::1"), 443) == "[2001:db8::1]:443");
}

BOOST_AUTO_TEST_CASE(the_served_chain_is_inventoried_and_a_busy_certificate_keeps_100_locations) {
  scheduler_fixture f;
  net::outbound_guard guard({net::parse_cidr("127.0.0.0/24").value()});
  scripted_network net_;
  const std::string leaf = self_signed("shared.scan.test"),
                    issuing = self_signed("Issuing CA", true);
  for (int host = 1; host <= 150; ++host)
    net_.served["127.0.0." + std::to_string(host) + ":443"] = leaf;
  net_.chain = {issuing};
  schedulers::network_scanner scanner(f.runtime, guard, f.clock, net_.fn(), {});
  BOOST_REQUIRE(f.exec("network_scan_target", "network_scan_target.create", "nst-busy",
                       R"({"name":"busy","cidrs":["127.0.0.0/24"],"ports":[443]})")
                    .ok());
  auto scan = scanner.scan("nst-busy", "apikey:test", "req-busy");
  BOOST_REQUIRE_MESSAGE(scan.ok, scan.error);
  BOOST_TEST(scan.tls_endpoints == 150);
  BOOST_TEST(scan.scan.int64("certificates_found") == 300);  // each leaf and its chain
  BOOST_TEST(scan.scan.int64("certificates_new") == 2);

  for (const auto& pem : {leaf, issuing}) {
    auto found = f.runtime.read("discovered_certificate", discovered_id(pem));
    BOOST_REQUIRE(found.ok());
    BOOST_TEST(found->view.int64("times_seen") == 150);
    const auto locations = found->view.object_array("locations");
    BOOST_REQUIRE(locations.size() == domain::max_discovery_locations);
    BOOST_TEST(found->view.boolean("locations_truncated"));
    // The most recent sightings are kept, the latest last.
    BOOST_TEST(locations.back().str("source_path") == "127.0.0.150:443");
    BOOST_TEST(locations.front().str("source_path") == "127.0.0.51:443");
    BOOST_TEST(locations.back().str("tls_version") == "TLSv1.3");
  }
  auto issuing_found = f.runtime.read("discovered_certificate", discovered_id(issuing));
  BOOST_TEST(issuing_found->view.boolean("is_ca"));
}

BOOST_AUTO_TEST_CASE(probes_run_on_a_bounded_pool_and_findings_are_deduplicated) {
  scheduler_fixture f;
  net::outbound_guard guard({net::parse_cidr("127.0.0.0/24").value()});
  scripted_network net_;
  const std::string a = self_signed("a.scan.test"), b = self_signed("b.scan.test");
  net_.served = {{"127.0.0.10:443", a}, {"127.0.0.11:8443", a}, {"127.0.0.12:443", b}};
  schedulers::network_scan_options o;
  o.concurrency = 4;
  schedulers::network_scanner scanner(f.runtime, guard, f.clock, net_.fn(), o);
  BOOST_REQUIRE(f.exec("network_scan_target", "network_scan_target.create", "nst-1",
                       R"({"name":"lab","cidrs":["127.0.0.0/26"],"ports":[443,8443]})")
                    .ok());

  auto first = scanner.scan("nst-1", "apikey:test", "req-1");
  BOOST_REQUIRE_MESSAGE(first.ok, first.error);
  BOOST_TEST(first.probes == 62 * 2);
  BOOST_TEST(net_.probed.size() == 124u);
  BOOST_TEST(net_.peak.load() <= 4);
  BOOST_TEST(net_.peak.load() >= 2);  // the probes did overlap
  BOOST_TEST(net_.threads.count(std::this_thread::get_id()) == 0u);
  BOOST_TEST(first.tls_endpoints == 3);
  BOOST_TEST(first.scan.int64("certificates_found") == 3);
  BOOST_TEST(first.scan.int64("certificates_new") == 2);  // a is served twice
  BOOST_TEST(first.scan.str("source") == "server-scanner");

  auto found_a = f.runtime.read("discovered_certificate", discovered_id(a));
  BOOST_REQUIRE(found_a.ok());
  BOOST_TEST(found_a->view.int64("times_seen") == 2);
  BOOST_TEST(found_a->view.object_array("locations").size() == 2u);
  BOOST_TEST(found_a->view.str("source") == "server-scanner");

  auto second = scanner.scan("nst-1", "apikey:test", "req-2");
  BOOST_REQUIRE(second.ok);
  BOOST_TEST(second.scan.int64("certificates_new") == 0);
  auto again_a = f.runtime.read("discovered_certificate", discovered_id(a));
  BOOST_TEST(again_a->view.object_array("locations").size() == 2u);  // same places, no more

  auto target = f.runtime.read("network_scan_target", "nst-1");
  BOOST_REQUIRE(target.ok());
  BOOST_TEST(target->view.int64("last_scan_certs_found") == 3);
  BOOST_TEST(target->view.str("last_scan_id") == second.scan.str("id"));
  BOOST_TEST(!scanner.scan("nst-missing", "apikey:test", "req-3").ok);
  BOOST_TEST(scanner.scan("nst-missing", "apikey:test", "req-3").not_found);
}

// Issue 16 item 5: the largest target (a /20 with 3 ports) is probed in full, never more than
// `concurrency` at once, each probe with the target's timeout, so its worst case is
// ceil(probes / concurrency) x timeout_ms (docs/discovery.md).
BOOST_AUTO_TEST_CASE(a_slash_20_with_three_ports_stays_within_its_concurrency) {
  scheduler_fixture f;
  net::outbound_guard guard({net::parse_cidr("127.0.0.0/8").value()});
  std::atomic<int> in_flight{0}, peak{0};
  std::atomic<std::int64_t> probes{0}, wrong_timeout{0};
  schedulers::network_scan_options o;
  o.concurrency = 50;
  schedulers::network_scanner scanner(
      f.runtime, guard, f.clock,
      [&](const net::ip_address&, int, std::int64_t timeout_ms) {
        const int now = ++in_flight;
        for (int p = peak; now > p && !peak.compare_exchange_weak(p, now);) {
        }
        if (timeout_ms != 750) ++wrong_timeout;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        ++probes;
        --in_flight;
        return schedulers::scan_probe_result{};
      },
      o);
  BOOST_REQUIRE(f.exec("network_scan_target", "network_scan_target.create", "nst-20",
                       R"({"name":"big","cidrs":["127.16.0.0/20"],"ports":[443,8443,636],)"
                       R"("timeout_ms":750})")
                    .ok());
  auto out = scanner.scan("nst-20", "apikey:test", "req-1");
  BOOST_REQUIRE_MESSAGE(out.ok, out.error);
  BOOST_TEST(out.probes == 4094 * 3);
  BOOST_TEST(probes.load() == 4094 * 3);
  BOOST_TEST(peak.load() <= 50);
  BOOST_TEST(wrong_timeout.load() == 0);
  BOOST_TEST(out.scan.int64("certificates_found") == 0);
}

// More TLS endpoints than a scan records (max_findings, at most the pipeline's cap per report):
// the first are recorded, the rest are named in the scan's errors, never dropped silently.
BOOST_AUTO_TEST_CASE(endpoints_past_the_pipeline_cap_are_reported) {
  scheduler_fixture f;
  net::outbound_guard guard({net::parse_cidr("127.0.0.0/8").value()});
  const std::string pem = self_signed("everywhere.scan.test");
  schedulers::network_scan_options o;
  o.max_findings = 5;
  const auto everywhere = [&pem](const net::ip_address&, int, std::int64_t) {
    schedulers::scan_probe_result r;
    r.tls = true;
    r.pem = pem;
    return r;
  };
  schedulers::network_scanner scanner(f.runtime, guard, f.clock, everywhere, o);
  BOOST_REQUIRE(f.exec("network_scan_target", "network_scan_target.create", "nst-many",
                       R"({"name":"many","cidrs":["127.32.0.0/29"],"ports":[443,8443]})")
                    .ok());
  auto out = scanner.scan("nst-many", "apikey:test", "req-1");
  BOOST_REQUIRE_MESSAGE(out.ok, out.error);
  BOOST_TEST(out.tls_endpoints == 6 * 2);
  BOOST_TEST(out.scan.int64("certificates_found") == 5);
  BOOST_TEST(out.scan.int64("certificates_new") == 1);
  const auto errors = out.scan.str_array("errors");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].find("7 TLS endpoint(s) past the first 5") == 0u, errors[0]);
}

BOOST_AUTO_TEST_CASE(reserved_addresses_are_refused_before_any_probe) {
  scheduler_fixture f;
  net::outbound_guard guard;  // no allow-list
  scripted_network net_;
  schedulers::network_scanner scanner(f.runtime, guard, f.clock, net_.fn());
  BOOST_REQUIRE(f.exec("network_scan_target", "network_scan_target.create", "nst-1",
                       R"({"name":"private","cidrs":["10.0.0.0/30","169.254.169.254"],)"
                       R"("ports":[443]})")
                    .ok());
  auto out = scanner.scan("nst-1", "apikey:test", "req-1");
  BOOST_REQUIRE_MESSAGE(out.ok, out.error);
  BOOST_TEST(out.refused == 3);
  BOOST_TEST(out.probes == 0);
  BOOST_TEST(net_.probed.empty());
  const auto errors = out.scan.str_array("errors");
  BOOST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(errors[0].find("private_use") != std::string::npos);
  BOOST_TEST(errors[1].find("link_local") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_tick_queues_due_enabled_targets_for_the_scanner_thread) {
  scheduler_fixture f;
  net::outbound_guard guard({net::parse_cidr("127.0.0.0/24").value()});
  scripted_network net_;
  schedulers::network_scanner scanner(f.runtime, guard, f.clock, net_.fn());
  for (const char* id : {"nst-on", "nst-off"})
    BOOST_REQUIRE(f.exec("network_scan_target", "network_scan_target.create", id,
                         std::string(R"({"name":"x","cidrs":["127.0.0.1"],"enabled":)") +
                             (std::string(id) == "nst-on" ? "true" : "false") + "}")
                      .ok());
  const auto list = [&f](std::string&) {
    std::vector<events::json_object> out;
    for (const char* id : {"nst-on", "nst-off"})
      out.push_back(f.runtime.read("network_scan_target", id)->view);
    return out;
  };
  auto first = scanner.tick(f.clock.now(), list);
  BOOST_REQUIRE(first.actions.size() == 1u);
  BOOST_TEST(first.actions[0].entity_id == "nst-on");
  scanner.drain();
  BOOST_TEST(net_.probed.size() == 1u);
  BOOST_TEST(net_.threads.count(std::this_thread::get_id()) == 0u);
  BOOST_TEST(f.runtime.read("network_scan_target", "nst-on")->view.has("last_scan_at"));
  // Scanned just now: not due until its six hours have passed.
  BOOST_TEST(scanner.tick(f.at(t0 + us_per_hour), list).actions.empty());
  BOOST_TEST(scanner.tick(f.at(t0 + 6 * us_per_hour), list).actions.size() == 1u);
  scanner.drain();
  BOOST_TEST(net_.probed.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
