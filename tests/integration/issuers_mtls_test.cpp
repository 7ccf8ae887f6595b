// The issuers that authenticate with a TLS client certificate, end to end through the REST
// API of the built server, against local HTTPS servers written from the vendors' published
// APIs (tests/support/mock_{entrust,globalsign,ejbca}; none of the products can run here):
// create the issuer (secrets redacted), test it, issue (chain verified by `openssl verify`),
// renew, revoke (the CA told: certificate.ca_revocation_succeeded), an approval-pending order
// that completes after a server restart, a documented CA error on the job, a client
// certificate the CA does not trust refused with a clear error, no secret in any answer,
// event or log line.
#define BOOST_TEST_MODULE integration_issuers_mtls
#include <boost/test/unit_test.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <thread>

#include "events/json.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/issuer_steps.hpp"
#include "tests/integration/test_steps.hpp"
#include "tests/support/mock_ejbca.hpp"
#include "tests/support/mock_entrust.hpp"
#include "tests/support/mock_globalsign.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;
namespace t = certctl::testing;

namespace {

// This binary's loopback ports for the CA stand-ins: 41140-41149.
constexpr int entrust_port = 41140;
constexpr int globalsign_port = 41141;
constexpr int ejbca_port = 41142;

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
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

/// Issue, renew and revoke through `issuer_id`; returns the certificate id.
std::string issue_renew_revoke(api& client, const std::string& dir, const std::string& issuer_id,
                               const std::string& cn, const std::string& root_path) {
  const std::string id = create_certificate(client, cn, issuer_id);
  wait_for_certificate(client, id, {"Active"});
  auto renewed = client.post("/api/v1/certificates/" + id + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renewed.status == 202, renewed.describe());
  wait_for_versions(client, id, 2, renewed.position());
  wait_for_certificate(client, id, {"Active"});
  for (const auto& chain : chains_of(client, id)) expect_chain_verifies(dir, chain, root_path);
  auto revoked =
      client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  wait_for_certificate(client, id, {"Revoked"}, std::chrono::seconds(30), revoked.position());
  auto outcome = wait_for_event(client, "certificate.ca_revocation_succeeded", id);
  BOOST_TEST(!outcome.str("serial_number").empty());
  return id;
}

void expect_no_secret(api& client, const server_process& server, const std::string& issuer_id,
                      const std::vector<std::string>& secrets) {
  auto shown = client.get("/api/v1/issuers/" + issuer_id);
  BOOST_REQUIRE_MESSAGE(shown.status == 200, shown.describe());
  auto list = client.get("/api/v1/issuers");
  auto events = client.get("/api/v1/events?limit=1000");
  for (const auto& s : secrets) {
    BOOST_TEST(!contains(shown.body, s), "GET issuer shows " << s);
    BOOST_TEST(!contains(list.body, s), "issuer list shows " << s);
    BOOST_TEST(!contains(events.body, s), "event log holds " << s);
    BOOST_TEST(!contains(server.logs(), s), "server log holds " << s);
  }
}

/// A client certificate from a CA the stand-in does not trust: the issuer test says so.
void expect_foreign_certificate_refused(api& client, const std::string& type,
                                        certctl::events::json_object config,
                                        const t::mtls_client_identity& rogue) {
  config.set("client_cert_path", rogue.cert_path).set("client_key_path", rogue.key_path);
  auto made = create_issuer(client, "iss-rogue-" + type, type, config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto tested = client.post("/api/v1/issuers/iss-rogue-" + type + "/test", "{}");
  // Our configuration, not the CA's state: the spec's 400.
  BOOST_TEST(tested.status == 400, tested.describe());
  BOOST_TEST(contains(tested.body, "refused our TLS client certificate"), tested.body);
}

}  // namespace

BOOST_AUTO_TEST_CASE(entrust_issues_renews_revokes_and_finishes_an_approved_order_after_restart) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "entrust");
  auto client_id = t::make_client_identity(dir.path, "entrust", "certctl-it");
  t::mock_entrust entrust(ca, client_id.ca_path, client_id.common_name, entrust_port);
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("api_url", entrust.url())
      .set("client_cert_path", client_id.cert_path)
      .set("client_key_path", client_id.key_path)
      .set("ca_id", "CA-TEST-1")
      .set("server_ca_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-entrust", "Entrust", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto tested = client.post("/api/v1/issuers/iss-entrust/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());
  issue_renew_revoke(client, dir.path, "iss-entrust", "shop.example.test", ca.root_path);

  // Approval required: the job waits on the order; the server restarts meanwhile; the
  // approver approves; the restarted server's poller completes it.
  entrust.state().behaviour.approval_required = true;
  const std::string id = create_certificate(client, "approved.example.test", "iss-entrust");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (entrust.state().status_calls == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(entrust.state().status_calls > 0);  // polled at least once: pending approval
  server.stop();
  entrust.state().approve_all();
  server.start();
  api again(server);
  wait_for_certificate(again, id, {"Active"}, std::chrono::seconds(60));

  // A rejected enrollment fails the job with Entrust's words.
  entrust.state().behaviour.approval_required = false;
  entrust.state().behaviour.reject = true;
  const std::string refused = create_certificate(again, "refused.example.test", "iss-entrust");
  wait_for_certificate(again, refused, {"Failed"});
  auto why = wait_for_event(again, "certificate.issuance_failed", refused);
  BOOST_TEST(contains(why.str("error"), "domain not verified"), why.dump());
  entrust.state().behaviour.reject = false;

  expect_foreign_certificate_refused(again, "Entrust", config,
                                     t::make_client_identity(dir.path, "rogue", "certctl-it"));
}

BOOST_AUTO_TEST_CASE(globalsign_atlas_issues_renews_revokes_with_secrets_redacted) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "atlas");
  auto client_id = t::make_client_identity(dir.path, "atlas", "certctl-it");
  t::mock_globalsign atlas(ca, client_id.ca_path, globalsign_port);
  atlas.state().api_key = "atlas-it-key-5ecret";
  atlas.state().api_secret = "atlas-it-secret-5ecret";
  atlas.state().behaviour.pending_polls = 1;  // the first look finds nothing yet: an order
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("api_url", atlas.url())
      .set("api_key", "atlas-it-key-5ecret")
      .set("api_secret", "atlas-it-secret-5ecret")
      .set("client_cert_path", client_id.cert_path)
      .set("client_key_path", client_id.key_path)
      .set("server_ca_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-atlas", "GlobalSign", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, "atlas-it-secret-5ecret"), made.body);
  auto tested = client.post("/api/v1/issuers/iss-atlas/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());
  issue_renew_revoke(client, dir.path, "iss-atlas", "atlas.example.test", ca.root_path);
  BOOST_TEST(atlas.state().revoked.size() == 1u);

  // 401 on a wrong secret: the issuer test says what Atlas said.
  config.set("api_secret", "wrong-secret");
  auto wrong = create_issuer(client, "iss-atlas-wrong", "GlobalSign", config);
  BOOST_REQUIRE_MESSAGE(wrong.status == 201, wrong.describe());
  auto denied = client.post("/api/v1/issuers/iss-atlas-wrong/test", "{}");
  BOOST_TEST(denied.status == 400, denied.describe());
  BOOST_TEST(contains(denied.body, "Invalid API key or secret"), denied.body);

  expect_no_secret(client, server, "iss-atlas", {"atlas-it-key-5ecret", "atlas-it-secret-5ecret"});
}

BOOST_AUTO_TEST_CASE(ejbca_enrolls_renews_revokes_by_issuer_dn_and_refuses_a_foreign_client) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "ejbca");
  auto client_id = t::make_client_identity(dir.path, "ejbca", "certctl-it");
  t::mock_ejbca ejbca(ca, client_id.ca_path, ejbca_port);
  server_process server(dir.path + "/data", loopback_outbound());
  api client(server);
  certctl::events::json_object config;
  config.set("api_url", ejbca.url())
      .set("auth_mode", "mtls")
      .set("client_cert_path", client_id.cert_path)
      .set("client_key_path", client_id.key_path)
      .set("ca_name", "ManagementCA")
      .set("cert_profile", "SERVER")
      .set("ee_profile", "TLS_SERVER")
      .set("server_ca_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-ejbca", "EJBCA", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto tested = client.post("/api/v1/issuers/iss-ejbca/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());
  issue_renew_revoke(client, dir.path, "iss-ejbca", "ra.example.test", ca.root_path);
  BOOST_REQUIRE_EQUAL(ejbca.state().revoked.size(), 1u);
  BOOST_TEST(ejbca.state().revoke_reasons[0] == "KEY_COMPROMISE");
  BOOST_TEST(ejbca.state().revoke_dns[0] == ejbca.state().subject_dn);

  // Approvals on: an order, completed when the administrator approves.
  ejbca.state().behaviour.approval_required = true;
  const std::string id = create_certificate(client, "approval.example.test", "iss-ejbca");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ejbca.state().search_calls == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(ejbca.state().search_calls > 0);
  ejbca.state().approve_all(ca);
  wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(60));

  expect_foreign_certificate_refused(client, "EJBCA", config,
                                     t::make_client_identity(dir.path, "rogue", "certctl-it"));
}
