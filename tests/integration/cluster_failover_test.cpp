// What a cluster node leaves behind for the others (docs/cluster.md "Shared key material",
// "ACME nonces", "Affinity"), against three certctl-server processes on one PostgreSQL schema
// and the test's mock Kafka cluster:
//  - an intermediate CA created on a node that is then SIGKILLed still issues, through
//    another node (its key is in the shared, sealed key store);
//  - a server-generated key exports as PKCS#12 from a node other than the one that made it;
//  - an EAB key issued on one node admits an ACME account on another;
//  - an ACME nonce from one node is accepted once on another, and refused when replayed;
//  - no private key appears in the event log.
#define BOOST_TEST_MODULE integration_cluster_failover
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "tests/integration/acme_client.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/cluster_fixture.hpp"

using namespace certctl;
using namespace certctl::integration;
using steady = std::chrono::steady_clock;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// POST until the cluster answers something other than 503 (ownership moving after a kill).
api_response post_settled(api& client, const std::string& path, const std::string& body) {
  const auto until = steady::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = client.post(path, body);
    if (r.status != 503 || steady::now() > until) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::string certificate_through(const std::string& id, const std::string& cn,
                                const std::string& issuer_id) {
  std::string body = certificate_body("cert " + cn, cn, {});
  body.replace(body.find("\"iss-local\""), 11, "\"" + issuer_id + "\"");
  body.insert(1, R"("id":")" + id + R"(",)");
  return body;
}

acme_response new_account_with(acme_client& c, const std::string& eab) {
  return c.post(c.directory_url("newAccount"),
                R"({"termsOfServiceAgreed":true,"externalAccountBinding":)" + eab + "}", true);
}

}  // namespace

BOOST_AUTO_TEST_CASE(keys_and_nonces_are_usable_on_every_node) {
  cluster_fixture c;
  const std::map<std::string, std::string> acme{{"CERTCTL_ACME_SERVER_ENABLED", "true"},
                                                {"CERTCTL_ACME_SERVER_EAB_REQUIRED", "true"}};
  c.start_node("node-1", acme);
  c.start_node("node-2", acme);
  c.start_node("node-3", acme);
  api one(*c.nodes[0]), two(*c.nodes[1]), three(*c.nodes[2]);

  // A server-generated key, exported from each node: whichever made it, the others read it.
  auto made = one.post("/api/v1/certificates",
                       certificate_through("mc-p12", "p12.example.test", "iss-local"));
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto active = wait_for_certificate(one, "mc-p12", {"Active"}, std::chrono::seconds(60));
  BOOST_REQUIRE_MESSAGE(str(active, "status") == "Active", "mc-p12 is " << str(active, "status"));
  for (api* node : {&one, &two, &three}) {
    auto p12 = node->post("/api/v1/certificates/mc-p12/export/pkcs12", R"({"password":"pw-cl"})");
    BOOST_REQUIRE_MESSAGE(p12.status == 200, p12.describe());
    write_file(c.dir.path + "/bundle.p12", p12.body);
    auto opened = run_command("openssl pkcs12 -nodes -passin pass:pw-cl -in " +
                              shell_quote(c.dir.path + "/bundle.p12"));
    BOOST_TEST(opened.exit_code == 0, opened.out);
    BOOST_TEST(contains(opened.out, "PRIVATE KEY"), "no key in the bundle");
  }

  // EAB: the key issued on node-1, the account created on node-2.
  auto eab = one.post("/api/v1/admin/acme/eab-keys", "{}");
  BOOST_REQUIRE_MESSAGE(eab.status == 201, eab.describe());
  const std::string kid = str(eab.json(), "key_id"), hmac = str(eab.json(), "hmac_key");
  acme_client on_two(*c.nodes[1]);
  auto account =
      new_account_with(on_two, eab_for(on_two, kid, hmac, on_two.directory_url("newAccount")));
  BOOST_TEST(account.status == 201, account.describe());

  // Nonces: from node-1, used on node-3 (accepted once), replayed on node-1 and node-3.
  acme_client on_one(*c.nodes[0]), on_three(*c.nodes[2]);
  const std::string nonce = on_one.fresh_nonce();
  const std::string payload = R"({"termsOfServiceAgreed":true,"externalAccountBinding":)";
  auto eab2 = one.post("/api/v1/admin/acme/eab-keys", "{}");
  BOOST_REQUIRE(eab2.status == 201);
  const std::string kid2 = str(eab2.json(), "key_id"), hmac2 = str(eab2.json(), "hmac_key");
  const std::string url3 = on_three.directory_url("newAccount");
  auto used = on_three.send(
      url3, on_three.sign(url3, payload + eab_for(on_three, kid2, hmac2, url3) + "}", true, nonce));
  BOOST_TEST(used.status == 201, "a node-1 nonce on node-3: " << used.describe());
  const std::string url1 = on_one.directory_url("newAccount");
  auto replay_one = on_one.send(
      url1, on_one.sign(url1, payload + eab_for(on_one, kid2, hmac2, url1) + "}", true, nonce));
  BOOST_TEST(replay_one.problem_type() == "badNonce",
             "replay on node-1: " << replay_one.describe());
  auto replay_three = on_three.send(
      url3, on_three.sign(url3, payload + eab_for(on_three, kid2, hmac2, url3) + "}", true, nonce));
  BOOST_TEST(replay_three.problem_type() == "badNonce",
             "replay on node-3: " << replay_three.describe());
  BOOST_TEST(!replay_one.header("Replay-Nonce").empty());

  // An intermediate created on node-2; node-2 dies; node-1 issues through it.
  auto ica = two.post(
      "/api/v1/issuers/iss-local/intermediates",
      R"({"name":"Cluster CA","parent_ca_id":"iss-local","subject":{"common_name":"Cluster CA"}})");
  BOOST_REQUIRE_MESSAGE(ica.status == 201, ica.describe());
  const std::string ica_id = str(ica.json(), "id");
  // An issuer that signs with it (GenericCA naming the intermediate), also made on node-2.
  auto issuer = two.post("/api/v1/issuers", R"({"name":"Cluster issuer","type":"GenericCA",
      "config":{"intermediate_id":")" + ica_id + R"("}})");
  BOOST_REQUIRE_MESSAGE(issuer.status == 201, issuer.describe());
  const std::string issuer_id = str(issuer.json(), "id");
  c.nodes[1]->kill();
  BOOST_TEST_MESSAGE("SIGKILL node-2 after it created " << ica_id << " and " << issuer_id);
  auto through = post_settled(one, "/api/v1/certificates",
                              certificate_through("mc-ica", "ica.example.test", issuer_id));
  BOOST_REQUIRE_MESSAGE(through.status == 201, through.describe());
  auto issued = wait_for_certificate(one, "mc-ica", {"Active", "Failed"}, std::chrono::seconds(90));
  BOOST_REQUIRE_MESSAGE(str(issued, "status") == "Active",
                        "mc-ica is " << str(issued, "status") << ": " << str(issued, "last_error"));
  auto versions = one.get("/api/v1/certificates/mc-ica/versions");
  BOOST_REQUIRE(versions.status == 200);
  const std::string chain = str(versions.json()["data"][0], "pem_chain");
  write_file(c.dir.path + "/ica-chain.pem", chain);
  auto subject =
      run_command("openssl x509 -noout -issuer -in " + shell_quote(c.dir.path + "/ica-chain.pem"));
  BOOST_TEST(contains(subject.out, "Cluster CA"),
             "not issued by the intermediate: " << subject.out);

  // Keys never enter the log.
  auto log = one.get("/api/v1/events?limit=1000");
  BOOST_REQUIRE(log.status == 200);
  BOOST_TEST(!contains(log.body, "PRIVATE KEY"));
  BOOST_TEST(!contains(log.body, hmac));
}
