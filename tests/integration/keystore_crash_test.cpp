// A crash between the key-store write and the certificate's recorded version, as seeded trials:
// with server-side key generation, the server is armed (infra/fault_point.hpp) to SIGKILL
// itself right after the private key of its n-th issuance is durable in the key store and
// before the version that uses it is recorded; n is random per trial, under a load of
// certificate creations. After the restart, each trial checks: every acknowledged request is
// applied exactly once and its job ends (the killed issuance is retried), no serial twice, the
// PKCS#12 export of every certificate carries the key of its recorded version (the export
// refuses a key that does not match, so an orphan key is never served), no public key belongs
// to two certificates, and certctl-audit verify passes.
//
// Needs a build with -DCERTCTL_FAULT_INJECTION=ON (tools/build.sh); otherwise the server
// refuses to start and the test fails. CERTCTL_FAULT_TRIALS / CERTCTL_FAULT_SEED as in
// crash_test (docs/fault-tests.md).
#define BOOST_TEST_MODULE integration_keystore_crash
#include <signal.h>
#include <sys/wait.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/integration/fault_support.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int default_trials = 3;
constexpr int client_threads = 6;
/// The issuance that dies is the (skip+1)-th after the restart.
constexpr int max_skip = 25;
constexpr auto settle_timeout = std::chrono::seconds(60);
constexpr auto recovery_deadline = std::chrono::seconds(60);

/// One client: new certificates until the server stops answering (its request then stays in
/// flight) or `stop`. A 503 repeats the same request.
void create_until_gone(const server_process& server, creation_ledger& ledger, int trial,
                       std::atomic<bool>& stop) {
  auto client = server.client(admin_key);
  while (!stop) {
    const std::string id = "ks-" + std::to_string(trial) + "-" + std::to_string(ledger.next++);
    {
      std::lock_guard lock(ledger.mutex);
      ledger.in_flight.insert(id);
    }
    for (;;) {
      auto r = client->Post("/api/v1/certificates", creation_headers(id), creation_body(id),
                            "application/json");
      if (!r) {
        stop = true;  // the server died: every client stops, unanswered requests stay in flight
        return;
      }
      if (r->status == 503) {
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      std::lock_guard lock(ledger.mutex);
      ledger.in_flight.erase(id);
      if (r->status == 201 || r->status == 200) {
        ledger.acknowledged.insert(id);
      } else {
        ++ledger.other_statuses[r->status];
        BOOST_ERROR("request " << id << " answered " << r->status << ": " << r->body);
      }
      break;
    }
  }
}

/// True once `pid` (our child) has exited, without reaping it (server_process reaps); sets
/// `killed` when SIGKILL ended it.
bool exited(pid_t pid, bool& killed) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return false;
  if (info.si_pid != pid) return false;
  killed = info.si_code == CLD_KILLED && info.si_status == SIGKILL;
  return true;
}

/// The DER SubjectPublicKeyInfo of the first certificate in `pem`; empty when it does not parse.
std::string public_key_of(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(n)) : "";
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

/// Each certificate of `ids`: its PKCS#12 export (whose key the server checks against the
/// recorded version) answers 200, and no public key belongs to two certificates.
void check_keys(const server_process& server, const std::set<std::string>& ids,
                std::map<std::string, std::string>& key_owner) {
  api client(server);
  for (const auto& id : ids) {
    auto p12 = client.post("/api/v1/certificates/" + id + "/export/pkcs12",
                           R"({"password":"trial-password"})");
    BOOST_TEST(p12.status == 200, id << ": PKCS#12 export " << p12.describe());
    auto versions = client.get("/api/v1/certificates/" + id + "/versions?per_page=50");
    BOOST_REQUIRE_MESSAGE(versions.status == 200, versions.describe());
    for (const auto& v : versions.json()["data"].GetArray()) {
      const std::string key = public_key_of(str(v, "pem_chain"));
      BOOST_TEST(!key.empty(), id << ": version without a parsable certificate");
      auto [it, fresh] = key_owner.emplace(key, id);
      BOOST_TEST(fresh, "the key of " << id << " also belongs to " << it->second);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigkill_after_the_key_store_write_on_sqlite) {
  const fault_plan plan = fault_plan_from_env(default_trials);
  std::mt19937_64 rng(plan.seed);
  temp_dir dir;
  const std::string data = dir.path + "/data";
  const std::string fault_file = dir.path + "/fault";
  server_options o;  // keygen_mode "server": the server makes and stores every key
  o.extra_env = {{"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "5"},
                 {"CERTCTL_JOB_FRESH_GRACE_SECONDS", "1"},
                 {"CERTCTL_TEST_FAULT_FILE", fault_file}};
  server_process server(data, o);

  creation_ledger ledger;
  std::map<std::string, std::string> key_owner;
  std::set<std::string> keys_checked;
  int in_flight_total = 0;
  for (int trial = 1; trial <= plan.trials; ++trial) {
    BOOST_TEST_CONTEXT("trial " << trial << " of " << plan.trials << ", seed " << plan.seed) {
      const int skip = std::uniform_int_distribution<int>(0, max_skip)(rng);
      std::ofstream(fault_file) << "after_key_store_write " << skip << "\n";
      server.stop();
      server.start();  // reads the armed fault at its first issuance

      std::atomic<bool> stop{false};
      std::vector<std::thread> clients;
      for (int t = 0; t < client_threads; ++t)
        clients.emplace_back([&, trial] { create_until_gone(server, ledger, trial, stop); });
      bool killed = false;
      const auto deadline = steady::now() + std::chrono::seconds(60);
      while (!exited(server.pid(), killed) && steady::now() < deadline)
        std::this_thread::sleep_for(milliseconds(5));
      stop = true;
      for (auto& t : clients) t.join();
      BOOST_REQUIRE_MESSAGE(killed, "the server did not die at after_key_store_write\n"
                                        << server.logs());
      server.kill();  // reaps it
      BOOST_TEST(server.logs().find("fault injection: SIGKILL at after_key_store_write") !=
                 std::string::npos);
      std::ifstream still_armed(fault_file);
      BOOST_REQUIRE_MESSAGE(!still_armed, "the fault file survived the fault");
      const int in_flight = static_cast<int>(ledger.in_flight.size());
      in_flight_total += in_flight;

      server.start();
      std::string last;
      BOOST_REQUIRE_MESSAGE(wait_ready(server, std::chrono::seconds(60), last),
                            "not ready after the restart: " << last);
      const settled s = settle_in_flight(server, ledger, settle_timeout);
      const int checked = check_exactly_once(server, ledger.acknowledged, recovery_deadline);
      std::set<std::string> fresh;
      for (const auto& id : ledger.acknowledged)
        if (!keys_checked.count(id)) fresh.insert(id);
      check_keys(server, fresh, key_owner);
      keys_checked.insert(fresh.begin(), fresh.end());
      BOOST_TEST_MESSAGE("trial " << trial << ": SIGKILL after the key of issuance " << skip + 1
                                  << " was stored; " << in_flight << " in flight (" << s.replayed
                                  << " had committed, " << s.applied << " applied on repeat); "
                                  << checked << " of " << ledger.acknowledged.size()
                                  << " certificates issued once, keys checked");
      check_audit_chain("sqlite://" + data + "/certctl.db");
    }
  }
  BOOST_TEST(server.stop() == 0, "server exit status\n" << server.logs());
  BOOST_TEST(ledger.other_statuses.empty());
  BOOST_TEST_MESSAGE(plan.trials << " kills after the key-store write, "
                                 << ledger.acknowledged.size() << " certificates checked, "
                                 << key_owner.size() << " distinct keys, " << in_flight_total
                                 << " requests in flight at the kills");
}

BOOST_AUTO_TEST_CASE(a_renewal_killed_after_its_key_write_keeps_the_current_versions_key) {
  // Keys are kept per version (crypto::certificate_key_id): the renewal's new key must not
  // replace the key of the version in use while the renewal is not recorded.
  temp_dir dir;
  const std::string fault_file = dir.path + "/fault";
  server_options o;
  o.extra_env = {{"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "5"},
                 {"CERTCTL_JOB_FRESH_GRACE_SECONDS", "1"},
                 {"CERTCTL_TEST_FAULT_FILE", fault_file}};
  server_process server(dir.path + "/data", o);
  std::string id;
  {
    api admin(server);
    id = issue_active(admin, certificate_body("renewed", "renewed.example.test", {}));
  }
  std::ofstream(fault_file) << "after_key_store_write 0\n";
  server.stop();
  server.start();
  {
    api admin(server);
    auto renew = admin.post("/api/v1/certificates/" + id + "/renew", "{}");
    BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
  }
  bool killed = false;
  const auto deadline = steady::now() + std::chrono::seconds(60);
  while (!exited(server.pid(), killed) && steady::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  BOOST_REQUIRE_MESSAGE(killed, "the renewal did not die at after_key_store_write\n"
                                    << server.logs());
  server.kill();
  server.start();
  api admin(server);
  // At once, before the renewal's retry (after the 5 s job timeout) records a new version:
  // the version in use still exports with its own key.
  auto during = admin.post("/api/v1/certificates/" + id + "/export/pkcs12",
                           R"({"password":"trial-password"})");
  BOOST_TEST(during.status == 200, "the current version lost its key: " << during.describe());
  wait_for_versions(admin, id, 2);
  wait_for_certificate(admin, id, {"Active"});
  std::map<std::string, std::string> key_owner;
  check_keys(server, {id}, key_owner);
  BOOST_TEST(key_owner.size() == 2u, "the renewal kept the old key");
  BOOST_TEST(server.stop() == 0);
  check_audit_chain("sqlite://" + dir.path + "/data/certctl.db");
}
