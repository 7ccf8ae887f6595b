// The cloud CA issuers end to end through the REST API of the built server, against local
// servers written from the vendors' published APIs (neither service can run here): Google
// Cloud CAS (tests/support/mock_googlecas, with its OAuth2 token endpoint) and AWS ACM Private
// CA (tests/support/mock_awsacmpca, which verifies every SigV4 signature). For each: create
// the issuer (secret redacted), test it, issue / renew / revoke through /api/v1/certificates
// (chains verified by `openssl verify` against the CA's root), a documented CA error, and no
// secret in any answer, event or log line. ACM PCA issues asynchronously: its pending order is
// followed by the order poller, across a server restart.
#define BOOST_TEST_MODULE integration_cloud_issuers
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <thread>

#include "events/json.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/issuer_steps.hpp"
#include "tests/integration/test_steps.hpp"
#include "tests/support/mock_awsacmpca.hpp"
#include "tests/support/mock_googlecas.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;
namespace t = certctl::testing;

namespace {

// This binary's loopback ports for the CA stand-ins (41220-41229).
constexpr int cas_port = 41220;
constexpr int pca_port = 41221;

/// Issue (Active, chain verified), renew (a second version), revoke (Revoked); the id.
std::string issue_renew_revoke(api& client, const std::string& dir, const std::string& issuer_id,
                               const std::string& cn, const std::string& root_path,
                               std::chrono::seconds patience) {
  const std::string id = create_certificate(client, cn, issuer_id);
  wait_for_certificate(client, id, {"Active"}, patience);
  auto first = chains_of(client, id);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  expect_chain_verifies(dir, first[0], root_path);
  auto renewed = client.post("/api/v1/certificates/" + id + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renewed.status == 202, renewed.describe());
  wait_for_versions(client, id, 2, renewed.position(), patience);
  wait_for_certificate(client, id, {"Active"}, patience);
  for (const auto& c : chains_of(client, id)) expect_chain_verifies(dir, c, root_path);
  auto revoked =
      client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  wait_for_certificate(client, id, {"Revoked"}, std::chrono::seconds(30), revoked.position());
  return id;
}

/// Waits until `pred()` holds (the CA is told of a revocation after the API answers).
template <class P>
void eventually(P pred, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) BOOST_FAIL(what);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void expect_no_secret(api& client, const server_process& server, const std::string& issuer_id,
                      const std::vector<std::string>& secrets) {
  auto shown = client.get("/api/v1/issuers/" + issuer_id);
  BOOST_REQUIRE_MESSAGE(shown.status == 200, shown.describe());
  BOOST_TEST(contains(shown.body, "********"), shown.body);
  auto list = client.get("/api/v1/issuers");
  auto events = client.get("/api/v1/events?limit=1000");
  for (const auto& s : secrets) {
    BOOST_TEST(!contains(shown.body, s), "GET issuer shows a secret");
    BOOST_TEST(!contains(list.body, s), "issuer list shows a secret");
    BOOST_TEST(!contains(events.body, s), "event log holds a secret");
    BOOST_TEST(!contains(server.logs(), s), "server log holds a secret");
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(google_cas)

BOOST_AUTO_TEST_CASE(issue_renew_revoke_through_google_cas_with_a_service_account) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "cas");
  t::mock_googlecas cas(ca, cas_port);
  auto key = certctl::crypto::generate_key(certctl::crypto::key_type::rsa_2048);
  BOOST_REQUIRE(key.ok());
  const std::string key_json = cas.service_account_json(key->pem);
  const std::string key_body = key->pem.substr(40, 60);
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("project", "proj-1")
      .set("location", "us-central1")
      .set("ca_pool", "pool-1")
      .set("credentials_json", key_json)
      .set("api_url", cas.url())
      .set("ca_bundle_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-cas", "GoogleCAS", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, key_body));
  auto tested = client.post("/api/v1/issuers/iss-cas/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  issue_renew_revoke(client, dir.path, "iss-cas", "app.example.test", ca.root_path,
                     std::chrono::seconds(30));
  eventually(
      [&] {
        std::lock_guard<std::mutex> lock(cas.state().mutex);
        for (const auto& c : cas.state().certificates)
          if (c.revocation_reason == "KEY_COMPROMISE") return true;
        return false;
      },
      "Google CAS never heard of the revocation");

  // PERMISSION_DENIED, in Google's words, on the issuer test: a configuration to fix (400).
  cas.state().deny_permission = true;
  auto denied = client.post("/api/v1/issuers/iss-cas/test", "{}");
  cas.state().deny_permission = false;
  BOOST_TEST(denied.status == 400, denied.describe());
  BOOST_TEST(contains(denied.body, "PERMISSION_DENIED"), denied.body);

  expect_no_secret(client, server, "iss-cas", {key_body});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(aws_acm_pca)

BOOST_AUTO_TEST_CASE(issue_renew_revoke_through_acm_pca_with_pending_orders_and_a_restart) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "pca");
  t::mock_awsacmpca pca(ca, pca_port);
  const std::string secret = "wJalrXUtnFEMI/K7MDENG+integrationSECRET";
  pca.state().keys["AKIDINTEGRATION"] = {secret, ""};
  pca.state().pending_polls = 1;  // every certificate is pending once: the order poller
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("region", "us-east-1")
      .set("ca_arn", pca.state().ca_arn)
      .set("access_key_id", "AKIDINTEGRATION")
      .set("secret_access_key", secret)
      .set("endpoint_url", pca.url())
      .set("ca_bundle_path", ca.root_path)
      .set("use_instance_metadata", false)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-pca", "AWSACMPCA", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, secret));
  auto tested = client.post("/api/v1/issuers/iss-pca/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  issue_renew_revoke(client, dir.path, "iss-pca", "app.example.test", ca.root_path,
                     std::chrono::seconds(120));
  eventually(
      [&] {
        std::lock_guard<std::mutex> lock(pca.state().mutex);
        for (const auto& c : pca.state().certificates)
          if (c.revocation_reason == "KEY_COMPROMISE") return true;
        return false;
      },
      "ACM PCA never heard of the revocation");
  BOOST_TEST(pca.state().issue_calls == 2);  // issue + renew, one order each

  // Restart mid-order: the order is placed, the server stops while the CA still works on it,
  // and the restarted server finishes the same order (no second IssueCertificate).
  {
    std::lock_guard<std::mutex> lock(pca.state().mutex);
    pca.state().pending_polls = 1000000;
  }
  const std::string id = create_certificate(client, "restart.example.test", "iss-pca");
  eventually(
      [&] {
        std::lock_guard<std::mutex> lock(pca.state().mutex);
        return pca.state().issue_calls == 3 && pca.state().get_calls > 0;
      },
      "the order was never placed");
  server.stop();
  {
    std::lock_guard<std::mutex> lock(pca.state().mutex);
    for (auto& c : pca.state().certificates) c.polls_left = 0;
  }
  server.start();
  api after(server);
  wait_for_certificate(after, id, {"Active"}, std::chrono::seconds(120));
  BOOST_TEST(pca.state().issue_calls == 3);
  auto chains = chains_of(after, id);
  BOOST_REQUIRE_EQUAL(chains.size(), 1u);
  expect_chain_verifies(dir.path, chains[0], ca.root_path);

  // AccessDeniedException, in AWS's words, on the issuer test: a configuration to fix (400).
  pca.state().deny_access = true;
  auto denied = after.post("/api/v1/issuers/iss-pca/test", "{}");
  pca.state().deny_access = false;
  BOOST_TEST(denied.status == 400, denied.describe());
  BOOST_TEST(contains(denied.body, "AccessDeniedException"), denied.body);

  expect_no_secret(after, server, "iss-pca", {secret});
}

BOOST_AUTO_TEST_SUITE_END()
