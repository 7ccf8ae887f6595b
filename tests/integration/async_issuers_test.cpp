// The asynchronous commercial CAs end to end through the REST API of the built server:
// DigiCert CertCentral and Sectigo SCM, each against a local HTTPS server written from the
// vendor's published API (tests/support/mock_digicert, mock_sectigo; neither service can run
// here). For each: create the issuer (secret redacted) and test it; issue with the order
// waiting for approval (visible on GET /jobs/{id}), then renew and revoke (the CA told);
// cancel a pending order (withdrawn at the CA, job.order_cancelled); a server stopped with an
// order pending and started again on the same data completes it; a documented refusal fails
// the job in the CA's words; and no secret in any answer, event or log line.
#define BOOST_TEST_MODULE integration_async_issuers
#include <boost/test/unit_test.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <thread>

#include "events/json.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/issuer_steps.hpp"
#include "tests/integration/test_steps.hpp"
#include "tests/support/mock_digicert.hpp"
#include "tests/support/mock_sectigo.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;
namespace t = certctl::testing;
using certctl::events::json_object;

namespace {

// This binary's loopback ports (the engineer's range 41000-41099): 41020+, 41030+.
constexpr int digicert_port = 41020;
constexpr int sectigo_port = 41030;

/// Polls every second: the ladder is shortened for the test (the default starts at 5 s).
server_options fast_polls() {
  server_options o;
  o.extra_env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32";
  o.extra_env["CERTCTL_ORDER_POLL_SCHEDULE"] = "1";
  return o;
}

json_object to_object(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return json_object::parse(buf.GetString()).value();
}

/// Polls the certificate's jobs until one has `field` == `value`; that job (GET /jobs/{id}).
json_object wait_for_job_with(api& client, const std::string& cert_id, const char* field,
                              const std::string& value) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = client.get("/api/v1/jobs?certificate_id=" + cert_id);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto page = r.json();
    for (const auto& j : page["data"].GetArray()) {
      auto job = to_object(j);
      if (job.str(field) != value) continue;
      auto one = client.get("/api/v1/jobs/" + job.str("id"));
      BOOST_REQUIRE_MESSAGE(one.status == 200, one.describe());
      return to_object(one.json());
    }
    if (std::chrono::steady_clock::now() > deadline)
      BOOST_FAIL("no job of " + cert_id + " with " + field + " = " + value + ": " + r.body);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

/// The payload of the first event of `type` on stream `stream`.
json_object wait_for_event(api& client, const std::string& type, const std::string& stream) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = client.get("/api/v1/events?limit=1000&type=" + type);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto page = r.json();
    for (const auto& e : page["data"].GetArray())
      if (str(e, "stream_id") == stream) return to_object(e["payload"]);
    if (std::chrono::steady_clock::now() > deadline) BOOST_FAIL("no " + type + " on " + stream);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void expect_chain_verifies(const std::string& dir, api& client, const std::string& id,
                           const std::string& root_path) {
  auto r = client.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  for (const auto& v : doc["data"].GetArray()) {
    const std::string chain = str(v, "pem_chain");
    const std::string leaf = chain.substr(0, chain.find("-----END CERTIFICATE-----") + 25);
    const std::string file = dir + "/leaf-" + str(v, "serial_number") + ".pem";
    write_file(file, leaf + "\n");
    auto ok =
        run_shell("openssl verify -CAfile " + shell_quote(root_path) + " " + shell_quote(file));
    BOOST_TEST(ok.exit_code == 0, ok.out);
  }
}

/// Issue (the order waiting for approval first, shown on the job), renew, revoke.
std::string approval_issue_renew_revoke(api& client, const std::string& dir,
                                        const std::string& issuer_id, const std::string& cn,
                                        const std::string& root_path) {
  const std::string id = create_certificate(client, cn, issuer_id);
  auto waiting = wait_for_job_with(client, id, "order_ca_state", "pending_approval");
  BOOST_TEST(waiting.str("status") == "Running");  // a JobStatus the API knows
  BOOST_TEST(waiting.str("order_state") == "pending");
  BOOST_TEST(contains(waiting.str("order_message"), "awaits approval"), waiting.dump());
  wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(60));
  auto renewed = client.post("/api/v1/certificates/" + id + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renewed.status == 202, renewed.describe());
  wait_for_versions(client, id, 2, renewed.position(), std::chrono::seconds(60));
  wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(60));
  expect_chain_verifies(dir, client, id, root_path);
  auto revoked =
      client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"superseded"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  auto told = wait_for_event(client, "certificate.ca_revocation_succeeded", "certificate-" + id);
  BOOST_TEST(told.str("reason") == "superseded");
  return id;
}

/// Cancel a pending order through the REST API: withdrawn at the CA, recorded on the job.
void cancel_pending(api& client, const std::string& issuer_id, const std::string& cn) {
  const std::string id = create_certificate(client, cn, issuer_id);
  auto job = wait_for_job_with(client, id, "order_state", "pending");
  auto cancelled = client.post("/api/v1/jobs/" + job.str("id") + "/cancel", "{}");
  BOOST_REQUIRE_MESSAGE(cancelled.status == 200, cancelled.describe());
  auto after = wait_for_job_with(client, id, "order_state", "cancelled");
  BOOST_TEST(after.str("status") == "Cancelled");
  auto recorded = wait_for_event(client, "job.order_cancelled", "job-" + job.str("id"));
  BOOST_TEST(recorded.str("outcome") == "cancelled");
  BOOST_TEST(recorded.str("order_id") == job.str("order_id"));
}

/// Stop the server with an order pending; a new one on the same data completes it.
void restart_mid_order(server_process& server, const std::string& issuer_id, const std::string& cn,
                       const std::function<int()>& polls_so_far) {
  std::string id;
  {
    api client(server);
    id = create_certificate(client, cn, issuer_id);
    wait_for_job_with(client, id, "order_ca_state", "processing");
  }
  server.stop();
  const int before = polls_so_far();
  server.start();
  api client(server);
  wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(60));
  BOOST_TEST(polls_so_far() > before);  // the new server asked the CA again
}

void expect_no_secret(api& client, const server_process& server, const std::string& issuer_id,
                      const std::string& secret) {
  auto shown = client.get("/api/v1/issuers/" + issuer_id);
  BOOST_REQUIRE_MESSAGE(shown.status == 200, shown.describe());
  BOOST_TEST(contains(shown.body, "********"), shown.body);
  BOOST_TEST(!contains(shown.body, secret));
  BOOST_TEST(!contains(client.get("/api/v1/issuers").body, secret));
  BOOST_TEST(!contains(client.get("/api/v1/events?limit=1000").body, secret));
  BOOST_TEST(!contains(client.get("/api/v1/jobs?per_page=500").body, secret));
  BOOST_TEST(!contains(server.logs(), secret));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(digicert)

BOOST_AUTO_TEST_CASE(orders_through_digicert_wait_for_approval_cancel_and_survive_a_restart) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "digicert");
  t::mock_digicert digicert(ca, digicert_port);
  auto& st = digicert.state();
  server_process server(dir.path + "/data", fast_polls());
  api client(server);
  json_object config;
  config.set("api_key", st.api_key)
      .set("org_id", 4455)
      .set("base_url", digicert.url())
      .set("ca_bundle_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-dc", "DigiCert", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, st.api_key));
  auto tested = client.post("/api/v1/issuers/iss-dc/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  st.approval_polls = 2;
  approval_issue_renew_revoke(client, dir.path, "iss-dc", "shop.example.test", ca.root_path);
  BOOST_TEST(st.revoked_serials.size() == 1u);
  BOOST_TEST(st.revoke_reasons == std::vector<std::string>{"superseded"});

  st.pending_polls = 1000;
  cancel_pending(client, "iss-dc", "gone.example.test");
  BOOST_TEST(st.cancelled.size() == 1u);

  st.pending_polls = 4;
  restart_mid_order(server, "iss-dc", "restart.example.test", [&st] {
    std::lock_guard<std::mutex> lock(st.mutex);
    return st.status_polls;
  });

  api again(server);
  st.refuse_orders = true;
  const std::string refused = create_certificate(again, "bad.example.test", "iss-dc");
  wait_for_certificate(again, refused, {"Failed"}, std::chrono::seconds(60));
  auto why = wait_for_event(again, "certificate.issuance_failed", "certificate-" + refused);
  BOOST_TEST(contains(why.str("error"), "invalid_dns_name"), why.dump());
  expect_no_secret(again, server, "iss-dc", st.api_key);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sectigo)

BOOST_AUTO_TEST_CASE(enrollments_through_sectigo_wait_for_approval_cancel_and_survive_a_restart) {
  temp_dir dir;
  auto ca = t::make_mock_ca(dir.path, "sectigo");
  t::mock_sectigo sectigo(ca, sectigo_port);
  auto& st = sectigo.state();
  server_process server(dir.path + "/data", fast_polls());
  api client(server);
  json_object config;
  config.set("customer_uri", st.customer_uri)
      .set("login", st.login)
      .set("password", st.password)
      .set("org_id", st.org_id)
      .set("cert_type", st.cert_type)
      .set("term", 90)
      .set("base_url", sectigo.url())
      .set("ca_bundle_path", ca.root_path)
      .set("timeout_seconds", 10);
  auto made = create_issuer(client, "iss-sg", "Sectigo", config);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(!contains(made.body, st.password));
  auto tested = client.post("/api/v1/issuers/iss-sg/test", "{}");
  BOOST_TEST(tested.status == 200, tested.describe());

  st.approval_polls = 2;
  st.not_ready_collects = 1;
  approval_issue_renew_revoke(client, dir.path, "iss-sg", "mail.example.test", ca.root_path);
  BOOST_TEST(st.revoked_serials.size() == 1u);
  BOOST_TEST(st.revoke_codes == std::vector<std::int64_t>{4});

  st.pending_polls = 1000;
  cancel_pending(client, "iss-sg", "gone.example.test");
  BOOST_TEST(st.declined.size() == 1u);

  st.pending_polls = 4;
  restart_mid_order(server, "iss-sg", "restart.example.test", [&st] {
    std::lock_guard<std::mutex> lock(st.mutex);
    return st.status_polls;
  });

  api again(server);
  st.refuse_enroll = true;
  const std::string refused = create_certificate(again, "bad.example.test", "iss-sg");
  wait_for_certificate(again, refused, {"Failed"}, std::chrono::seconds(60));
  auto why = wait_for_event(again, "certificate.issuance_failed", "certificate-" + refused);
  BOOST_TEST(contains(why.str("error"), "Domain is not allowed"), why.dump());
  expect_no_secret(again, server, "iss-sg", st.password);
}

BOOST_AUTO_TEST_SUITE_END()
