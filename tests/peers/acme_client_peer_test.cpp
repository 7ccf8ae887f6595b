// The ACME issuer (connectors/issuers/acme) against pebble, Let's Encrypt's test CA (LABEL
// peer), through the REST API of a real certctl-server: issuer created, certificate issued
// over HTTP-01 with the built-in responder (pebble validates for real) and over DNS-01 through
// operator scripts (pebble-challtestsrv as the DNS server), chains verified with `openssl
// verify` against pebble's root, renewal, revocation through the REST API (the CA is told:
// pebble marks the serial Revoked, certificate.ca_revocation_succeeded) and with the stored
// certificate, a restart in the middle of an order, and a dead or hanging CA that fails its
// own jobs without holding up the local CA. Without pebble the test is skipped (77), except
// under CI=true: FAILED.
#define BOOST_TEST_MODULE peer_acme_client
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "connectors/issuers/acme/acme_issuer.hpp"
#include "infra/crypto/key_store.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/server_process.hpp"

using namespace certctl;
using namespace certctl::integration;
using testing::shell_quote;

namespace {

int free_port() {
  auto r = run_command(
      "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
      "print(s.getsockname()[1])'");
  BOOST_REQUIRE(r.exit_code == 0);
  return std::stoi(r.out);
}

/// Starts `command` in the background (its output to `log`); returns its pid.
pid_t spawn(const std::string& command, const std::string& log) {
  auto r = run_command(command + " >" + shell_quote(log) + " 2>&1 & echo $!");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return static_cast<pid_t>(std::stol(r.out));
}

/// pebble and pebble-challtestsrv (its DNS answers every A query with 127.0.0.1, so pebble's
/// HTTP-01 fetches reach our responder, and it serves the TXT records the DNS hooks set).
struct pebble_ca {
  temp_dir dir;
  int port = free_port(), mgmt = free_port(), dns = free_port(), dns_mgmt = free_port();
  int http01 = free_port();
  pid_t pebble = -1, challtestsrv = -1;

  std::string nonce_reject = "0";  ///< PEBBLE_WFE_NONCEREJECT: percent of good nonces refused

  explicit pebble_ca(std::string reject = "0") : nonce_reject(std::move(reject)) {
    const std::string d = dir.path;
    auto certs = run_command(
        "cd " + shell_quote(d) +
        " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
        " -out ca.pem -days 2 -subj '/CN=pebble test TLS CA' 2>&1"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem"
        " -out srv.csr -subj /CN=localhost 2>&1"
        " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext"
        " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem"
        " -days 2 -extfile ext 2>&1");
    BOOST_REQUIRE_MESSAGE(certs.exit_code == 0, certs.out);
    write_file(d + "/pebble.json",
               "{\"pebble\":{\"listenAddress\":\"127.0.0.1:" + std::to_string(port) +
                   "\",\"managementListenAddress\":\"127.0.0.1:" + std::to_string(mgmt) +
                   "\",\"certificate\":\"" + d + "/cert.pem\",\"privateKey\":\"" + d +
                   "/key.pem\",\"httpPort\":" + std::to_string(http01) +
                   ",\"tlsPort\":" + std::to_string(free_port()) +
                   ",\"ocspResponderURL\":\"\",\"externalAccountBindingRequired\":false}}");
    challtestsrv = spawn("exec pebble-challtestsrv -dns01 127.0.0.1:" + std::to_string(dns) +
                             " -http01 '' -https01 '' -tlsalpn01 '' -defaultIPv6 '' -management "
                             "127.0.0.1:" +
                             std::to_string(dns_mgmt),
                         d + "/challtestsrv.log");
    start();
  }
  ~pebble_ca() {
    stop();
    if (challtestsrv > 0) ::kill(challtestsrv, SIGKILL);
  }

  void start() {
    pebble = spawn("PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=" + nonce_reject +
                       " PEBBLE_AUTHZREUSE=0 exec pebble -config " +
                       shell_quote(dir.path + "/pebble.json") +
                       " -dnsserver 127.0.0.1:" + std::to_string(dns),
                   dir.path + "/pebble.log");
    // Pebble generates its CA keys first (a second or two); wait for its directory.
    for (int i = 0; i < 600; ++i) {
      if (run_command("curl -sf --cacert " + shell_quote(ca()) + " " + directory() + " >/dev/null")
              .exit_code == 0)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // The destructor does not run for a constructor that throws: stop both here.
    stop();
    if (challtestsrv > 0) ::kill(challtestsrv, SIGKILL);
    challtestsrv = -1;
    BOOST_FAIL("pebble did not start: " + read_file(dir.path + "/pebble.log"));
  }
  void stop() {
    if (pebble > 0) ::kill(pebble, SIGKILL);
    pebble = -1;
  }

  std::string ca() const { return dir.path + "/ca.pem"; }  ///< trusts pebble's HTTPS
  std::string directory() const { return "https://127.0.0.1:" + std::to_string(port) + "/dir"; }
  std::string mgmt_get(const std::string& path) const {
    return run_command("curl -sf --cacert " + shell_quote(ca()) +
                       " https://127.0.0.1:" + std::to_string(mgmt) + path)
        .out;
  }
  /// pebble's issuing root (it makes a new one per run).
  std::string root_file() {
    const std::string f = dir.path + "/root.pem";
    write_file(f, mgmt_get("/roots/0"));
    return f;
  }
};

server_options with_outbound() {
  server_options o;
  // pebble and its DNS live on loopback, which the outbound guard refuses by default.
  o.extra_env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32";
  // pebble's orders are pending for moments: poll every second, not on the production ladder
  // (5 s, 15 s, 45 s, ...), whose waits this test does not exercise.
  o.extra_env["CERTCTL_ORDER_POLL_SCHEDULE"] = "1";
  return o;
}

std::string acme_issuer_body(const std::string& id, const pebble_ca& p,
                             const std::string& extra = "") {
  return "{\"id\":\"" + id + "\",\"name\":\"pebble\",\"type\":\"ACME\",\"config\":{" +
         "\"directory_url\":\"" + p.directory() + "\",\"email\":\"ops@example.test\"," +
         "\"http_port\":" + std::to_string(p.http01) + ",\"ca_bundle\":\"" + p.ca() + "\"" + extra +
         "}}";
}

std::string create_certificate(api& admin, const std::string& id, const std::string& issuer,
                               const std::string& sans_json, const std::string& cn) {
  auto r = admin.post("/api/v1/certificates",
                      "{\"id\":\"" + id + "\",\"name\":\"" + id + "\",\"common_name\":\"" + cn +
                          "\",\"sans\":" + sans_json + ",\"issuer_id\":\"" + issuer +
                          "\",\"renewal_policy_id\":\"rp-default\",\"owner_id\":\"o-1\","
                          "\"team_id\":\"t-1\"}");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return id;
}

/// The certificate's versions, newest first: (serial, pem_chain).
std::vector<std::pair<std::string, std::string>> versions_of(api& admin, const std::string& id) {
  auto r = admin.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  std::vector<std::pair<std::string, std::string>> out;
  auto doc = r.json();
  for (const auto& v : doc["data"].GetArray())
    out.emplace_back(str(v, "serial_number"), str(v, "pem_chain"));
  return out;
}

rapidjson::Document job_of(api& admin, const std::string& certificate_id) {
  auto r = admin.get("/api/v1/jobs?certificate_id=" + certificate_id);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  rapidjson::Document out;
  if (!doc["data"].GetArray().Empty()) out.CopyFrom(doc["data"][0], out.GetAllocator());
  return out;
}

void verify_chain(const std::string& root, const std::string& dir, const std::string& chain,
                  const std::string& name) {
  const std::string f = dir + "/chain.pem";
  write_file(f, chain);
  auto v = run_command("openssl verify -CAfile " + shell_quote(root) + " -untrusted " +
                       shell_quote(f) + " " + shell_quote(f) + " 2>&1");
  BOOST_TEST(v.exit_code == 0, v.out);
  auto text = run_command("openssl x509 -noout -issuer -ext subjectAltName -in " + shell_quote(f));
  BOOST_TEST(text.out.find("Pebble Intermediate") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("DNS:" + name) != std::string::npos, text.out);
}

std::string lower_hex(std::string serial) {
  for (auto& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return serial;
}

/// The certificate's CA revocation outcome event (succeeded or failed), into `out`; false
/// while there is none.
bool ca_revocation_outcome(api& admin, const std::string& certificate_id,
                           rapidjson::Document& out) {
  auto r = admin.get(
      "/api/v1/events?limit=1000&type=certificate.ca_revocation_succeeded"
      "&type=certificate.ca_revocation_failed");
  if (r.status != 200) return false;
  auto page = r.json();
  for (const auto& e : page["data"].GetArray()) {
    if (str(e, "stream_id") != "certificate-" + certificate_id) continue;
    out.CopyFrom(e, out.GetAllocator());
    return true;
  }
  return false;
}

template <class F>
bool eventually(F ok, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ok();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_client_pebble)

BOOST_AUTO_TEST_CASE(http01_issues_renews_and_revokes_through_the_rest_api) {
  pebble_ca pebble;
  temp_dir dir;
  auto server = std::make_unique<server_process>(dir.path + "/data", with_outbound());
  api admin(*server);
  auto made = admin.post("/api/v1/issuers", acme_issuer_body("iss-pebble", pebble));
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto tested = admin.post("/api/v1/issuers/iss-pebble/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  create_certificate(admin, "mc-web", "iss-pebble", R"(["web.example.test","www.example.test"])",
                     "web.example.test");
  auto cert = wait_for_certificate(admin, "mc-web", {"Active", "Failed"}, std::chrono::seconds(90));
  BOOST_REQUIRE_MESSAGE(str(cert, "status") == "Active", server->logs());
  const std::string root = pebble.root_file();
  auto first = versions_of(admin, "mc-web");
  BOOST_REQUIRE(first.size() == 1u);
  verify_chain(root, dir.path, first[0].second, "www.example.test");
  // The order was entity state on the job, and it ended valid.
  auto job = job_of(admin, "mc-web");
  BOOST_TEST(str(job, "status") == "Completed");
  BOOST_TEST(str(job, "order_state") == "valid");
  BOOST_TEST(str(job, "order_id").find(pebble.directory().substr(0, 22)) == 0u);

  auto renewed = admin.post("/api/v1/certificates/mc-web/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renewed.status < 300, renewed.describe());
  BOOST_REQUIRE_MESSAGE(eventually([&] { return versions_of(admin, "mc-web").size() == 2u; },
                                   std::chrono::seconds(90)),
                        server->logs());
  auto both = versions_of(admin, "mc-web");
  BOOST_TEST(both[0].first != both[1].first);
  for (const auto& v : both) verify_chain(root, dir.path, v.second, "web.example.test");

  // Revocation through the REST API reaches pebble: the server revokes the current version,
  // then its ca_revocation workflow tells the issuing CA and records the outcome.
  const std::string current = lower_hex(both[0].first);
  BOOST_TEST(pebble.mgmt_get("/cert-status-by-serial/" + current).find("\"Valid\"") !=
             std::string::npos);
  auto rest_revoke =
      admin.post("/api/v1/certificates/mc-web/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(rest_revoke.status == 200, rest_revoke.describe());
  BOOST_TEST(
      eventually(
          [&] {
            return pebble.mgmt_get("/cert-status-by-serial/" + current).find("\"Revoked\"") !=
                   std::string::npos;
          },
          std::chrono::seconds(60)),
      server->logs());
  rapidjson::Document outcome;
  BOOST_REQUIRE_MESSAGE(eventually([&] { return ca_revocation_outcome(admin, "mc-web", outcome); },
                                   std::chrono::seconds(60)),
                        server->logs());
  BOOST_TEST(str(outcome, "type") == "certificate.ca_revocation_succeeded", server->logs());
  BOOST_TEST(str(outcome["payload"], "issuer_type") == "ACME");
  BOOST_TEST(str(outcome["payload"], "reason") == "keyCompromise");
  BOOST_TEST(lower_hex(str(outcome["payload"], "serial_number")) == current);

  // Revocation by serial of the older version, with the stored certificate, signed by the
  // issuer's account key (RFC 8555 §7.6), as the server's revocation does: same key store,
  // same issuer id.
  const std::string serial = both[1].first;
  const std::string lower = lower_hex(serial);
  BOOST_TEST(pebble.mgmt_get("/cert-status-by-serial/" + lower).find("\"Valid\"") !=
             std::string::npos);
  server->stop();
  auto master = crypto::load_or_create_master_key(dir.path + "/data/master.key");
  BOOST_REQUIRE(master.ok());
  auto keys = crypto::key_store::open(dir.path + "/data/keys", *master);
  BOOST_REQUIRE(keys.ok());
  net::outbound_guard guard({*net::parse_cidr("127.0.0.1/32")});
  connectors::acme::acme_config cfg;
  cfg.directory_url = pebble.directory();
  cfg.ca_bundle = pebble.ca();
  connectors::acme::acme_environment env;
  env.keys = &*keys;
  env.guard = &guard;
  env.certificate_by_serial = [&](const std::string& s) -> std::optional<std::string> {
    for (const auto& v : both)
      if (v.first == s) return v.second;
    return std::nullopt;
  };
  connectors::acme::acme_issuer issuer("iss-pebble", cfg, env);
  auto unknown = issuer.revoke({"0BADBAD0", "superseded"});
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().message.find("not in this server's inventory") != std::string::npos);
  BOOST_TEST(!issuer.revoke({serial, "noSuchReason"}).ok());
  auto revoked = issuer.revoke({serial, "superseded"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? std::string() : revoked.error().message));
  BOOST_TEST(pebble.mgmt_get("/cert-status-by-serial/" + lower).find("\"Revoked\"") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(dns01_runs_the_operator_scripts_with_the_reference_environment) {
  pebble_ca pebble;
  temp_dir dir;
  const std::string seen = dir.path + "/hook.log";
  const std::string api_url = "http://127.0.0.1:" + std::to_string(pebble.dns_mgmt);
  // The operator's scripts: set and clear the TXT record through challtestsrv's API, and note
  // what they were given.
  write_file(dir.path + "/present.sh",
             "#!/bin/sh\necho \"present $CERTCTL_DNS_DOMAIN $CERTCTL_DNS_FQDN $CERTCTL_DNS_TOKEN\" "
             ">> " +
                 seen +
                 "\nexec curl -sf -X POST -d \"{\\\"host\\\":\\\"$CERTCTL_DNS_FQDN.\\\","
                 "\\\"value\\\":\\\"$CERTCTL_DNS_VALUE\\\"}\" " +
                 api_url + "/set-txt\n");
  write_file(dir.path + "/cleanup.sh",
             "#!/bin/sh\necho \"cleanup $CERTCTL_DNS_FQDN\" >> " + seen +
                 "\nexec curl -sf -X POST -d \"{\\\"host\\\":\\\"$CERTCTL_DNS_FQDN.\\\"}\" " +
                 api_url + "/clear-txt\n");
  run_command("chmod 755 " + shell_quote(dir.path + "/present.sh") + " " +
              shell_quote(dir.path + "/cleanup.sh"));
  server_process server(dir.path + "/data", with_outbound());
  api admin(server);
  auto made = admin.post(
      "/api/v1/issuers",
      acme_issuer_body("iss-dns", pebble,
                       ",\"challenge_type\":\"dns-01\",\"dns_present_script\":\"" + dir.path +
                           "/present.sh\",\"dns_cleanup_script\":\"" + dir.path + "/cleanup.sh\""));
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  // A wildcard needs DNS-01.
  create_certificate(admin, "mc-wild", "iss-dns", R"(["wild.example.test","*.wild.example.test"])",
                     "wild.example.test");
  auto cert =
      wait_for_certificate(admin, "mc-wild", {"Active", "Failed"}, std::chrono::seconds(90));
  BOOST_REQUIRE_MESSAGE(str(cert, "status") == "Active", server.logs() + read_file(seen));
  auto v = versions_of(admin, "mc-wild");
  verify_chain(pebble.root_file(), dir.path, v.at(0).second, "*.wild.example.test");
  const std::string log = read_file(seen);
  BOOST_TEST(
      log.find("present wild.example.test _acme-challenge.wild.example.test ") != std::string::npos,
      log);
  BOOST_TEST(log.find("cleanup _acme-challenge.wild.example.test") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(bad_nonces_are_retried_with_the_fresh_nonce_the_error_carries) {
  pebble_ca pebble("30");  // pebble refuses 30 % of good nonces with badNonce
  temp_dir dir;
  server_process server(dir.path + "/data", with_outbound());
  api admin(server);
  BOOST_REQUIRE(admin.post("/api/v1/issuers", acme_issuer_body("iss-pebble", pebble)).status ==
                201);
  create_certificate(admin, "mc-nonce", "iss-pebble", R"(["nonce.example.test"])",
                     "nonce.example.test");
  auto cert =
      wait_for_certificate(admin, "mc-nonce", {"Active", "Failed"}, std::chrono::seconds(90));
  BOOST_REQUIRE_MESSAGE(str(cert, "status") == "Active", server.logs());
  // Without the retry, a refused nonce on newOrder would have failed the attempt.
  BOOST_TEST(job_of(admin, "mc-nonce")["attempts"].GetInt64() == 1);
}

BOOST_AUTO_TEST_CASE(a_restart_in_the_middle_of_an_order_resumes_that_order) {
  pebble_ca pebble;
  temp_dir dir;
  server_process server(dir.path + "/data", with_outbound());
  api admin(server);
  BOOST_REQUIRE(admin.post("/api/v1/issuers", acme_issuer_body("iss-pebble", pebble)).status ==
                201);
  create_certificate(admin, "mc-mid", "iss-pebble", R"(["mid.example.test"])", "mid.example.test");
  std::string order;
  BOOST_REQUIRE_MESSAGE(eventually(
                            [&] {
                              auto j = job_of(admin, "mc-mid");
                              if (!j.IsObject() || str(j, "order_state") != "pending") return false;
                              order = str(j, "order_id");
                              return true;
                            },
                            std::chrono::seconds(60)),
                        server.logs());
  server.kill();  // the order is placed, nothing is issued yet
  server.start();
  api again(server);
  auto cert = wait_for_certificate(again, "mc-mid", {"Active", "Failed"}, std::chrono::seconds(90));
  BOOST_REQUIRE_MESSAGE(str(cert, "status") == "Active", server.logs());
  // The same order finished it: one job, one attempt, one version.
  auto job = job_of(again, "mc-mid");
  BOOST_TEST(str(job, "order_id") == order);
  BOOST_TEST(job["attempts"].GetInt64() == 1);
  BOOST_TEST(versions_of(again, "mc-mid").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_dead_or_hanging_acme_ca_fails_its_own_jobs_and_holds_up_no_other_issuer) {
  pebble_ca pebble;
  pebble.stop();  // pebble down: connection refused
  temp_dir dir;
  // A CA that accepts TCP and never answers: each call waits for its timeout. It writes its
  // port once it listens, so no connection can come before.
  const std::string hole_port = dir.path + "/hole.port";
  const pid_t hole = spawn(
      "exec python3 -c 'import socket,sys,time; s=socket.socket(); "
      "s.bind((\"127.0.0.1\",0)); s.listen(64); "
      "f=open(sys.argv[1],\"w\"); f.write(str(s.getsockname()[1])); "
      "f.close(); time.sleep(600)' " +
          shell_quote(hole_port),
      dir.path + "/hole.log");
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return !read_file(hole_port).empty(); }, std::chrono::seconds(60)),
      read_file(dir.path + "/hole.log"));
  const int hang = std::stoi(read_file(hole_port));
  server_process server(dir.path + "/data", with_outbound());
  api admin(server);
  BOOST_REQUIRE(admin.post("/api/v1/issuers", acme_issuer_body("iss-down", pebble)).status == 201);
  auto hang_body = acme_issuer_body("iss-hang", pebble);
  const std::string dead = pebble.directory();
  hang_body.replace(hang_body.find(dead), dead.size(),
                    "https://127.0.0.1:" + std::to_string(hang) + "/dir");
  BOOST_REQUIRE(admin.post("/api/v1/issuers", hang_body).status == 201);
  for (int i = 0; i < 3; ++i)
    create_certificate(admin, "mc-hang-" + std::to_string(i), "iss-hang",
                       R"(["hang.example.test"])", "hang.example.test");
  create_certificate(admin, "mc-down", "iss-down", R"(["down.example.test"])", "down.example.test");
  create_certificate(admin, "mc-local", "iss-local", R"(["local.example.test"])",
                     "local.example.test");
  // The local CA's certificate is issued while the hanging CA still holds its jobs.
  auto local =
      wait_for_certificate(admin, "mc-local", {"Active", "Failed"}, std::chrono::seconds(60));
  BOOST_TEST(str(local, "status") == "Active");
  int still_waiting = 0;
  for (int i = 0; i < 3; ++i)
    if (str(job_of(admin, "mc-hang-" + std::to_string(i)), "last_error").empty()) ++still_waiting;
  BOOST_TEST(still_waiting >= 2);
  // Each failed job says which CA and why, and retries per its policy.
  BOOST_REQUIRE_MESSAGE(
      eventually(
          [&] {
            return str(job_of(admin, "mc-down"), "last_error").find("unreachable") !=
                   std::string::npos;
          },
          std::chrono::seconds(60)),
      server.logs());
  const std::string down_error = str(job_of(admin, "mc-down"), "last_error");
  BOOST_TEST(
      down_error.find("issuer iss-down: ACME CA 127.0.0.1:" + std::to_string(pebble.port)) == 0u,
      down_error);
  BOOST_REQUIRE_MESSAGE(
      eventually(
          [&] {
            return str(job_of(admin, "mc-hang-0"), "last_error").find("timeout") !=
                   std::string::npos;
          },
          std::chrono::seconds(90)),
      str(job_of(admin, "mc-hang-0"), "last_error"));
  BOOST_TEST(str(admin.get("/api/v1/certificates/mc-down").json(), "status") != "Active");
  ::kill(hole, SIGKILL);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char* argv[]) {
  for (const char* program : {"pebble", "pebble-challtestsrv", "curl"}) {
    if (run_command(std::string("command -v ") + program + " >/dev/null").exit_code != 0) {
      std::cout << "SKIP: " << program << " is not installed (apt-get install pebble curl)\n";
      return 77;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
