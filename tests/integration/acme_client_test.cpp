// The ACME issuer (connectors/issuers/acme) against this project's own ACME server
// (gateways/acme) in a second certctl-server: external account binding (the server requires
// it), ARI (its renewalInfo asks for renewal once the certificate is revoked there), and the
// EAB HMAC key sealed at rest and absent from every response, log and event of the client side.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/server_process.hpp"

using namespace certctl;
using namespace certctl::integration;
using testing::shell_quote;

namespace {

template <class F>
bool eventually(F ok, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ok();
}

size_t versions(api& a, const std::string& id) {
  auto r = a.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return r.json()["data"].GetArray().Size();
}

std::string latest_chain(api& a, const std::string& id) {
  auto r = a.get("/api/v1/certificates/" + id + "/versions");
  return str(r.json()["data"][0], "pem_chain");
}

std::string issuer_body(const std::string& id, const server_process& ca, const std::string& eab) {
  return "{\"id\":\"" + id + "\",\"name\":\"own ACME\",\"type\":\"ACME\",\"config\":{" +
         "\"directory_url\":\"https://127.0.0.1:" + std::to_string(ca.port()) +
         "/acme/directory\",\"email\":\"ops@example.test\",\"ca_bundle\":\"" + ca.ca_bundle() +
         "\",\"ari_enabled\":true" + eab + "}}";
}

/// certificate_body with its own id and issuer instead of iss-local.
std::string with_issuer(std::string body, const std::string& id, const std::string& issuer) {
  const std::string local = "\"issuer_id\":\"iss-local\"";
  body.replace(body.find(local), local.size(), "\"issuer_id\":\"" + issuer + "\"");
  return "{\"id\":\"" + id + "\"," + body.substr(1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_client)

BOOST_AUTO_TEST_CASE(eab_and_ari_against_our_own_acme_server_and_the_hmac_is_never_shown) {
  temp_dir dir;
  server_options ca_opts;
  ca_opts.keygen_mode = "agent";
  ca_opts.extra_env["CERTCTL_ACME_SERVER_ENABLED"] = "true";
  ca_opts.extra_env["CERTCTL_ACME_SERVER_AUTH_MODE"] = "trust_authenticated";
  ca_opts.extra_env["CERTCTL_ACME_SERVER_EAB_REQUIRED"] = "true";
  server_process ca(dir.path + "/ca", ca_opts);
  api ca_admin(ca);
  auto key = ca_admin.post("/api/v1/admin/acme/eab-keys", "{}");
  BOOST_REQUIRE_MESSAGE(key.status == 201, key.describe());
  const std::string kid = str(key.json(), "key_id"), hmac = str(key.json(), "hmac_key");
  BOOST_REQUIRE(!hmac.empty());

  server_options client_opts;
  client_opts.extra_env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32";
  client_opts.extra_env["CERTCTL_ARI_CHECK_INTERVAL_SECONDS"] = "1";
  server_process client(dir.path + "/client", client_opts);
  api admin(client);

  // The secret is sealed at the edge: never echoed, never shown by GET.
  auto made = admin.post(
      "/api/v1/issuers",
      issuer_body("iss-own", ca, ",\"eab_kid\":\"" + kid + "\",\"eab_hmac\":\"" + hmac + "\""));
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(str(made.json()["config"], "eab_hmac") == "********");
  BOOST_TEST(str(made.json()["config"], "eab_kid") == kid);
  BOOST_TEST(admin.get("/api/v1/issuers/iss-own").body.find(hmac) == std::string::npos);
  // Without EAB the CA refuses the account: the job fails for good with the CA's reason.
  BOOST_REQUIRE(admin.post("/api/v1/issuers", issuer_body("iss-noeab", ca, "")).status == 201);

  auto policy = admin.post("/api/v1/renewal-policies",
                           R"({"id":"rp-ari","name":"ari","renewal_window_days":1})");
  BOOST_REQUIRE_MESSAGE(policy.status == 201, policy.describe());
  auto cert = admin.post(
      "/api/v1/certificates",
      with_issuer(certificate_body("own", "own.example.test", {"own.example.test"}, "rp-ari"),
                  "mc-own", "iss-own"));
  BOOST_REQUIRE_MESSAGE(cert.status == 201, cert.describe());
  auto noeab = admin.post(
      "/api/v1/certificates",
      with_issuer(certificate_body("noeab", "noeab.example.test", {"noeab.example.test"}),
                  "mc-noeab", "iss-noeab"));
  BOOST_REQUIRE_MESSAGE(noeab.status == 201, noeab.describe());

  auto active =
      wait_for_certificate(admin, "mc-own", {"Active", "Failed"}, std::chrono::seconds(60));
  BOOST_REQUIRE_MESSAGE(str(active, "status") == "Active", client.logs() + ca.logs());
  const std::string chain = dir.path + "/chain.pem";
  write_file(chain, latest_chain(admin, "mc-own"));
  auto verified =
      run_command("openssl verify -CAfile " + shell_quote(ca.ca_bundle()) + " -untrusted " +
                  shell_quote(chain) + " " + shell_quote(chain) + " 2>&1");
  BOOST_TEST(verified.exit_code == 0, verified.out);
  wait_for_certificate(admin, "mc-noeab", {"Failed"}, std::chrono::seconds(60));
  auto jobs = admin.get("/api/v1/jobs?certificate_id=mc-noeab");
  BOOST_TEST(jobs.body.find("external account") != std::string::npos, jobs.body);

  // ARI: the certificate expires far outside its one-day renewal window, so thresholds would
  // not renew it; revoked at the CA, the CA's renewalInfo says "now", and the client renews.
  BOOST_TEST(versions(admin, "mc-own") == 1u);
  api ca_again(ca);  // the first connection may have idled out meanwhile
  auto issued_there = ca_again.get("/api/v1/certificates");
  BOOST_REQUIRE(issued_there.json()["data"].GetArray().Size() == 1u);
  const std::string there = str(issued_there.json()["data"][0], "id");
  auto revoked =
      ca_again.post("/api/v1/certificates/" + there + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status < 300, revoked.describe());
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return versions(admin, "mc-own") == 2u; }, std::chrono::seconds(90)),
      client.logs());
  BOOST_TEST(client.logs().find("scheduler ari: ") != std::string::npos);

  // ZeroSSL style: with eab_fetch_url (and only then) the credentials come from that endpoint,
  // here a small HTTPS server with the CA's own serving certificate, answering as ZeroSSL does.
  api ca_third(ca);  // a fresh connection again, after the wait above
  auto key2 = ca_third.post("/api/v1/admin/acme/eab-keys", "{}");
  BOOST_REQUIRE_MESSAGE(key2.status == 201, key2.describe());
  const std::string kid2 = str(key2.json(), "key_id"), hmac2 = str(key2.json(), "hmac_key");
  const std::string fetch_log = dir.path + "/fetch.log";
  const std::string port_file = dir.path + "/eab.port";
  auto eab_server = run_command(
      "python3 " +
      shell_quote(std::string(CERTCTL_SOURCE_DIR) + "/tests/integration/eab_fetch_server.py") +
      " " + shell_quote(port_file) + " " + shell_quote(fetch_log) + " " +
      shell_quote(dir.path + "/ca/tls/server.crt") + " " +
      shell_quote(dir.path + "/ca/tls/server.key") + " " + shell_quote(kid2) + " " +
      shell_quote(hmac2) + " >" + shell_quote(dir.path + "/eab.log") + " 2>&1 & echo $!");
  BOOST_REQUIRE(eab_server.exit_code == 0);
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return !read_file(port_file).empty(); }, std::chrono::seconds(30)),
      read_file(dir.path + "/eab.log"));
  const std::string eab_port = read_file(port_file);
  BOOST_REQUIRE(
      admin
          .post("/api/v1/issuers", issuer_body("iss-fetch", ca,
                                               R"(,"eab_fetch_url":"https://127.0.0.1:)" +
                                                   eab_port + R"(/acme/eab-credentials-email")"))
          .status == 201);
  BOOST_REQUIRE(
      admin
          .post("/api/v1/certificates",
                with_issuer(certificate_body("fetch", "fetch.example.test", {"fetch.example.test"}),
                            "mc-fetch", "iss-fetch"))
          .status == 201);
  auto fetched =
      wait_for_certificate(admin, "mc-fetch", {"Active", "Failed"}, std::chrono::seconds(60));
  run_command("kill " + eab_server.out);
  BOOST_REQUIRE_MESSAGE(str(fetched, "status") == "Active",
                        admin.get("/api/v1/jobs?certificate_id=mc-fetch").body);
  BOOST_TEST(read_file(fetch_log) == "email=ops@example.test\n");

  // The profile goes into newOrder: this CA offers none by that name and says so.
  api ca_fourth(ca);
  auto key3 = ca_fourth.post("/api/v1/admin/acme/eab-keys", "{}");  // one account per EAB key
  BOOST_REQUIRE_MESSAGE(key3.status == 201, key3.describe());
  const std::string kid3 = str(key3.json(), "key_id"), hmac3 = str(key3.json(), "hmac_key");
  BOOST_REQUIRE(
      admin
          .post("/api/v1/issuers", issuer_body("iss-gold", ca,
                                               ",\"profile\":\"gold\",\"eab_kid\":\"" + kid3 +
                                                   "\",\"eab_hmac\":\"" + hmac3 + "\""))
          .status == 201);
  BOOST_REQUIRE(
      admin
          .post("/api/v1/certificates",
                with_issuer(certificate_body("gold", "gold.example.test", {"gold.example.test"}),
                            "mc-gold", "iss-gold"))
          .status == 201);
  wait_for_certificate(admin, "mc-gold", {"Failed"}, std::chrono::seconds(60));
  auto gold_jobs = admin.get("/api/v1/jobs?certificate_id=mc-gold");
  BOOST_TEST(gold_jobs.body.find("invalidProfile: profile 'gold' is not offered here") !=
                 std::string::npos,
             gold_jobs.body);

  // The HMAC key appears nowhere on the client: not in its log, its event log, its responses,
  // nor in clear in its data directory (sealed at rest).
  BOOST_TEST(client.logs().find(hmac) == std::string::npos);
  BOOST_TEST(client.logs().find(hmac2) == std::string::npos);
  auto events = admin.get("/api/v1/events?limit=1000");
  BOOST_REQUIRE(events.status == 200);
  BOOST_TEST(events.body.find(hmac) == std::string::npos);
  BOOST_TEST(admin.get("/api/v1/issuers").body.find(hmac) == std::string::npos);
  auto grep = run_command("grep -rlF -- " + shell_quote(hmac) + " " +
                          shell_quote(dir.path + "/client") + " 2>/dev/null");
  BOOST_TEST(grep.out.empty(), grep.out);
}

BOOST_AUTO_TEST_SUITE_END()
