// Issuer connectors end to end through the REST API of the built server: an OpenSSL / custom CA
// (a real `openssl ca` behind test-written scripts), step-ca and Vault PKI (local HTTPS servers
// that follow their documented APIs; neither product is installable here). For each: create
// the issuer (secrets redacted in the answer), test it, issue a certificate through it (Active,
// chain verified by `openssl verify` against the CA's root), renew, revoke (recorded here
// first, then the CA told: certificate.ca_revocation_succeeded), a documented CA error, and
// no secret in any answer, event or log line.
#define BOOST_TEST_MODULE integration_issuers
#include <boost/test/unit_test.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <thread>

#include "events/json.hpp"
#include "infra/crypto/jwt.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/issuer_steps.hpp"
#include "tests/integration/test_steps.hpp"
#include "tests/support/mock_issuers.hpp"
#include "tests/support/openssl_ca_scripts.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;
namespace t = certctl::testing;

namespace {

// This binary's loopback ports for the CA stand-ins (56310-56319).
constexpr int stepca_port = 56310;
constexpr int vault_port = 56311;

struct version {
  std::string serial, pem_chain;
};

std::vector<version> versions_of(api& client, const std::string& id) {
  auto r = client.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  std::vector<version> out;
  for (const auto& v : doc["data"].GetArray())
    out.push_back({str(v, "serial_number"), str(v, "pem_chain")});
  return out;
}

/// Polls the event log for an event of `type` about certificate `id`; its payload.
certctl::events::json_object wait_for_event(api& client, const std::string& type,
                                            const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = client.get("/api/v1/events?limit=1000&type=" + type);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto page = r.json();
    for (const auto& e : page["data"].GetArray()) {
      if (str(e, "stream_id") != "certificate-" + id) continue;
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      e["payload"].Accept(w);
      return certctl::events::json_object::parse(buf.GetString()).value();
    }
    if (std::chrono::steady_clock::now() > deadline)
      BOOST_FAIL("no " + type + " event for certificate " + id);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

/// The whole lifecycle through one issuer; returns the certificate id (revoked).
std::string issue_renew_revoke(api& client, const std::string& dir, const std::string& issuer_id,
                               const std::string& cn, const std::string& root_path) {
  const std::string id = create_certificate(client, cn, issuer_id);
  wait_for_certificate(client, id, {"Active"});
  auto first = versions_of(client, id);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  expect_chain_verifies(dir, first[0].pem_chain, root_path);

  auto renewed = client.post("/api/v1/certificates/" + id + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renewed.status == 202, renewed.describe());
  wait_for_versions(client, id, 2, renewed.position());
  wait_for_certificate(client, id, {"Active"});
  auto both = versions_of(client, id);
  BOOST_REQUIRE_EQUAL(both.size(), 2u);
  BOOST_TEST(both[0].serial != both[1].serial);
  for (const auto& v : both) expect_chain_verifies(dir, v.pem_chain, root_path);

  auto revoked =
      client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  wait_for_certificate(client, id, {"Revoked"}, std::chrono::seconds(30), revoked.position());
  return id;
}

/// No secret in any answer about the issuer, in the event log, or in the server's output.
void expect_no_secret(api& client, const server_process& server, const std::string& issuer_id,
                      const std::vector<std::string>& secrets) {
  auto shown = client.get("/api/v1/issuers/" + issuer_id);
  BOOST_REQUIRE_MESSAGE(shown.status == 200, shown.describe());
  BOOST_TEST(contains(shown.body, "********"), shown.body);
  auto list = client.get("/api/v1/issuers");
  auto events = client.get("/api/v1/events?limit=1000");
  for (const auto& s : secrets) {
    BOOST_TEST(!contains(shown.body, s), "GET issuer shows " << s);
    BOOST_TEST(!contains(list.body, s), "issuer list shows " << s);
    BOOST_TEST(!contains(events.body, s), "event log holds " << s);
    BOOST_TEST(!contains(server.logs(), s), "server log holds " << s);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openssl_custom_ca)

BOOST_AUTO_TEST_CASE(issue_renew_revoke_through_openssl_ca_scripts) {
  temp_dir dir;
  auto ca = t::make_openssl_ca(dir.path);
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("sign_script", ca.sign)
      .set("revoke_script", ca.revoke)
      .set("crl_script", ca.crl)
      .set("ca_chain_path", ca.root_path)
      .set("timeout_seconds", 20);
  auto made = create_issuer(client, "iss-openssl", "OpenSSL", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto tested = client.post("/api/v1/issuers/iss-openssl/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());
  BOOST_TEST(str(tested.json(), "status") == "success");

  const std::string id =
      issue_renew_revoke(client, dir.path, "iss-openssl", "svc.example.test", ca.root_path);
  auto outcome = wait_for_event(client, "certificate.ca_revocation_succeeded", id);
  BOOST_TEST(outcome.str("issuer_type") == "OpenSSL");
  BOOST_TEST(outcome.str("reason") == "keyCompromise");
  // openssl ca's own database now marks the current serial revoked.
  auto index = run_shell("cat " + shell_quote(ca.index_path));
  BOOST_TEST(contains(index.out, "R\t"), index.out);
  BOOST_TEST(contains(index.out, outcome.str("serial_number")), index.out);

  // A script past the issuer's timeout is killed; the issuer test says so.
  config.set("crl_script", ca.slow).set("timeout_seconds", 1);
  auto slow = create_issuer(client, "iss-openssl-slow", "OpenSSL", config);
  BOOST_REQUIRE_MESSAGE(slow.status == 201, slow.describe());
  auto timed_out = client.post("/api/v1/issuers/iss-openssl-slow/test", "{}");
  BOOST_TEST(timed_out.status == 500, timed_out.describe());
  BOOST_TEST(contains(timed_out.body, "killed"), timed_out.body);

  // A script path others may write is refused at the API, naming the rule.
  config.set("sign_script", "/tmp");
  auto refused = create_issuer(client, "iss-openssl-bad", "OpenSSL", config);
  BOOST_TEST(refused.status == 400, refused.describe());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(step_ca)

BOOST_AUTO_TEST_CASE(issue_renew_revoke_through_step_ca_with_a_jwk_provisioner) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "stepca");
  t::mock_stepca stepca(ca, stepca_port);
  // The provisioner key, as `step crypto jwk create` writes it: a JWE under a password.
  const std::string private_jwk =
      R"({"kty":"EC","crv":"P-256","kid":"prov-kid-1","x":"aqoiNipHVN7X3UFAbg_SLWLZMIk9GLKfA59qt5fH6pY","y":"n-VpVoH_5c0xDJdAa1Cqbz1XwI1aGUSB1y9jJF0tJZ8","d":"UfKKpJwPcdSPtcyrW2s8BX2_c0e_oJt3wIaiIWOw76g"})";
  stepca.state().provisioner_public_jwk =
      R"({"kty":"EC","crv":"P-256","x":"aqoiNipHVN7X3UFAbg_SLWLZMIk9GLKfA59qt5fH6pY","y":"n-VpVoH_5c0xDJdAa1Cqbz1XwI1aGUSB1y9jJF0tJZ8"})";
  stepca.state().kid = "prov-kid-1";
  const std::string password = "step-provisioner-pa55";
  auto jwe = certctl::crypto::encrypt_pbes2_jwe(private_jwk, password, 1000);
  BOOST_REQUIRE(jwe.ok());
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("ca_url", stepca.url())
      .set("provisioner_name", "certctl")
      .set("provisioner_key", *jwe)
      .set("provisioner_password", password)
      .set("root_cert_path", ca.root_path)
      .set("root_fingerprint", ca.root_fingerprint)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-step", "StepCA", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, jwe->substr(0, 40)), made.body);
  auto tested = client.post("/api/v1/issuers/iss-step/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  // The first revoke attempt meets a 503: the service retries after its backoff.
  stepca.state().fail_revokes = 1;
  const std::string id =
      issue_renew_revoke(client, dir.path, "iss-step", "app.example.test", ca.root_path);
  auto outcome = wait_for_event(client, "certificate.ca_revocation_succeeded", id);
  BOOST_TEST(outcome.int64("attempts") == 2);
  BOOST_REQUIRE_EQUAL(stepca.state().revoked.size(), 1u);
  BOOST_TEST(stepca.state().revoke_reason_codes[0] == 1);

  // A CA that refuses the token (another provisioner key now): a permanent error, recorded
  // at once as failed; the certificate stays Revoked here.
  const std::string other = create_certificate(client, "two.example.test", "iss-step");
  wait_for_certificate(client, other, {"Active"});
  stepca.state().kid = "rotated";
  auto revoked = client.post("/api/v1/certificates/" + other + "/revoke", "{}");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  auto failed = wait_for_event(client, "certificate.ca_revocation_failed", other);
  BOOST_TEST(contains(failed.str("error"), "401"), failed.dump());
  BOOST_TEST(failed.int64("attempts") == 1);  // a refused token is not retried
  auto still = wait_for_certificate(client, other, {"Revoked"});
  BOOST_TEST(str(still, "status") == "Revoked");

  // A CA slower than the issuer's timeout: the call ends at the deadline, said as a timeout.
  config.set("timeout_seconds", 1);
  auto slow = create_issuer(client, "iss-step-slow", "StepCA", config);
  BOOST_REQUIRE_MESSAGE(slow.status == 201, slow.describe());
  stepca.state().delay = std::chrono::milliseconds(2500);
  auto timed_out = client.post("/api/v1/issuers/iss-step-slow/test", "{}");
  stepca.state().delay = std::chrono::milliseconds(0);
  BOOST_TEST(timed_out.status == 500, timed_out.describe());
  BOOST_TEST(contains(timed_out.body, "timed out"), timed_out.body);

  expect_no_secret(client, server, "iss-step", {jwe->substr(0, 40), password});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(vault_pki)

BOOST_AUTO_TEST_CASE(issue_renew_revoke_through_vault_and_its_documented_errors) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "vault");
  t::mock_vault vault(ca, vault_port);
  const std::string token = "hvs.CAESIJ-integration-s3cret";
  vault.state().tokens.insert(token);
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("address", vault.url())
      .set("role", "web")
      .set("token", token)
      .set("ca_bundle_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-vault", "VaultPKI", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, token), made.body);
  auto tested = client.post("/api/v1/issuers/iss-vault/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  const std::string id =
      issue_renew_revoke(client, dir.path, "iss-vault", "api.example.test", ca.root_path);
  auto outcome = wait_for_event(client, "certificate.ca_revocation_succeeded", id);
  BOOST_TEST(outcome.str("issuer_type") == "VaultPKI");
  BOOST_REQUIRE_EQUAL(vault.state().revoked.size(), 1u);
  std::string said = vault.state().revoked[0];
  said.erase(std::remove(said.begin(), said.end(), ':'), said.end());
  std::string ours = outcome.str("serial_number");
  for (auto& c : ours) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  BOOST_TEST(said == ours);

  // 400, role constraints: a name the role does not allow fails the job with Vault's words.
  const std::string denied = create_certificate(client, "www.other.test", "iss-vault");
  wait_for_certificate(client, denied, {"Failed"});
  auto why = wait_for_event(client, "certificate.issuance_failed", denied);
  BOOST_TEST(contains(why.str("error"), "not allowed by this role"), why.dump());

  // 403 permission denied: a token Vault does not know, in Vault's words.
  config.set("token", "hvs.not-a-valid-token");
  auto denied_issuer = create_issuer(client, "iss-vault-denied", "VaultPKI", config);
  BOOST_REQUIRE_MESSAGE(denied_issuer.status == 201, denied_issuer.describe());
  auto forbidden = client.post("/api/v1/issuers/iss-vault-denied/test", "{}");
  BOOST_TEST(forbidden.status == 500, forbidden.describe());
  BOOST_TEST(contains(forbidden.body, "permission denied"), forbidden.body);

  // 503 sealed: the issuer test says so.
  vault.state().sealed = true;
  auto sealed = client.post("/api/v1/issuers/iss-vault/test", "{}");
  BOOST_TEST(sealed.status == 500, sealed.describe());
  BOOST_TEST(contains(sealed.body, "sealed"), sealed.body);
  vault.state().sealed = false;

  expect_no_secret(client, server, "iss-vault", {token});
}

BOOST_AUTO_TEST_SUITE_END()
