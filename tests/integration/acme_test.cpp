// The ACME server end to end with the in-test client: the full flow (account, order, authz,
// finalize, download, revoke) in trust_authenticated mode, then the negative suite, one broken
// thing per request, each answered with its RFC 8555 problem type.
#define BOOST_TEST_MODULE integration_acme
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <thread>

#include <rapidjson/schema.h>

#include "infra/crypto/jwk.hpp"
#include "tests/integration/acme_client.hpp"
#include "tests/integration/api.hpp"

using namespace certctl;
using namespace certctl::integration;

namespace {

server_options acme_enabled(int orders_per_hour = 1000) {
  server_options o;
  o.keygen_mode = "agent";
  o.extra_env["CERTCTL_ACME_SERVER_ENABLED"] = "true";
  o.extra_env["CERTCTL_ACME_SERVER_ORDERS_PER_HOUR"] = std::to_string(orders_per_hour);
  return o;
}

std::string str_of(const rapidjson::Value& v, const char* k) {
  return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : "";
}

/// Creates an order for `names` and returns its response (201 expected).
acme_response new_order(acme_client& c, const std::vector<std::string>& names) {
  std::string ids;
  for (const auto& n : names)
    ids += std::string(ids.empty() ? "" : ",") + R"({"type":"dns","value":")" + n + "\"}";
  return c.post(c.directory_url("newOrder"), R"({"identifiers":[)" + ids + "]}");
}

/// Polls an order until it leaves "processing"; returns the last document.
rapidjson::Document poll_order(acme_client& c, const std::string& url) {
  for (int i = 0; i < 200; ++i) {
    auto r = c.post(url, "");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto d = r.json();
    if (str_of(d, "status") != "processing") return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_FAIL("order stayed processing");
  return {};
}

struct fixture {
  temp_dir dir;
  server_process server{dir.path + "/data", acme_enabled(6)};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(acme_server, fixture)

BOOST_AUTO_TEST_CASE(full_flow_issues_a_verifiable_multi_san_certificate_and_revokes_it) {
  acme_client c(server);
  // Directory and nonces.
  for (const char* k : {"newNonce", "newAccount", "newOrder", "revokeCert", "renewalInfo"})
    BOOST_TEST(c.directory_url(k).find(c.base() + "/acme/") == 0u);
  auto nonce = c.get(c.directory_url("newNonce"));
  BOOST_TEST(nonce.status == 204);
  BOOST_TEST(!nonce.header("Replay-Nonce").empty());
  BOOST_TEST(nonce.header("Cache-Control") == "no-store");

  // Account: created once, the same key finds it again.
  auto acct = c.register_account();
  BOOST_REQUIRE_MESSAGE(acct.status == 201, acct.describe());
  BOOST_TEST(str_of(acct.json(), "status") == "valid");
  auto again = c.post(c.directory_url("newAccount"), R"({"termsOfServiceAgreed":true})", true);
  BOOST_TEST(again.status == 200);
  BOOST_TEST(again.header("Location") == c.kid());
  acme_client stranger(server);
  auto missing =
      stranger.post(stranger.directory_url("newAccount"), R"({"onlyReturnExisting":true})", true);
  BOOST_TEST(missing.problem_type() == "accountDoesNotExist");

  // Order: authorizations are valid at once in trust_authenticated mode.
  auto order = new_order(c, {"a.example.test", "b.example.test"});
  BOOST_REQUIRE_MESSAGE(order.status == 201, order.describe());
  const std::string order_url = order.header("Location");
  auto od = order.json();
  BOOST_TEST(str_of(od, "status") == "ready");
  BOOST_REQUIRE(od["authorizations"].Size() == 2u);
  auto authz = c.post(od["authorizations"][0].GetString(), "");
  BOOST_REQUIRE_MESSAGE(authz.status == 200, authz.describe());
  BOOST_TEST(str_of(authz.json(), "status") == "valid");
  const std::string finalize_url = str_of(od, "finalize");

  // Finalize with CSRs that do not match the order, or reuse the account key: badCSR.
  auto partial = make_acme_csr({"a.example.test"});
  auto r = c.post(finalize_url, R"({"csr":")" + partial.der_b64url + "\"}");
  BOOST_TEST(r.problem_type() == "badCSR", r.describe());
  auto extra = make_acme_csr({"a.example.test", "b.example.test", "c.example.test"});
  r = c.post(finalize_url, R"({"csr":")" + extra.der_b64url + "\"}");
  BOOST_TEST(r.problem_type() == "badCSR", r.describe());
  auto same_key = make_acme_csr({"a.example.test", "b.example.test"}, c.key_pem());
  r = c.post(finalize_url, R"({"csr":")" + same_key.der_b64url + "\"}");
  BOOST_TEST(r.problem_type() == "badCSR", r.describe());

  // The right CSR: the order becomes valid once the certificate is issued.
  auto good = make_acme_csr({"b.example.test", "a.example.test"});
  r = c.post(finalize_url, R"({"csr":")" + good.der_b64url + "\"}");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto done = poll_order(c, order_url);
  BOOST_REQUIRE_EQUAL(str_of(done, "status"), "valid");
  auto cert = c.post(str_of(done, "certificate"), "");
  BOOST_REQUIRE_MESSAGE(cert.status == 200, cert.describe());
  BOOST_TEST(cert.header("Content-Type") == "application/pem-certificate-chain");
  write_file(dir.path + "/chain.pem", cert.body);
  auto verify = run_command("openssl verify -CAfile " + testing::shell_quote(server.ca_bundle()) +
                            " -untrusted " + testing::shell_quote(dir.path + "/chain.pem") + " " +
                            testing::shell_quote(dir.path + "/chain.pem"));
  BOOST_TEST(verify.exit_code == 0, verify.out);
  auto text = run_command("openssl x509 -noout -ext subjectAltName -in " +
                          testing::shell_quote(dir.path + "/chain.pem"));
  BOOST_TEST(text.out.find("DNS:a.example.test") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("DNS:b.example.test") != std::string::npos, text.out);
  // Finalizing twice is refused: the order is no longer ready.
  r = c.post(finalize_url, R"({"csr":")" + good.der_b64url + "\"}");
  BOOST_TEST(r.problem_type() == "orderNotReady", r.describe());

  // Revocation by the account that ordered it; a second time is alreadyRevoked.
  auto der = run_command("openssl x509 -outform DER -in " +
                         testing::shell_quote(dir.path + "/chain.pem") + " | base64 -w0");
  auto raw = std::string();
  {
    // base64 -> base64url
    raw = der.out;
    while (!raw.empty() && (raw.back() == '\n' || raw.back() == '=')) raw.pop_back();
    for (auto& ch : raw) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  }
  const std::string revoke_body = R"({"certificate":")" + raw + R"(","reason":4})";
  // Another account may not revoke it.
  BOOST_REQUIRE(stranger.register_account().status == 201);
  r = stranger.post(c.directory_url("revokeCert"), revoke_body);
  BOOST_TEST(r.problem_type() == "unauthorized", r.describe());
  r = c.post(c.directory_url("revokeCert"), revoke_body);
  BOOST_TEST(r.status == 200, r.describe());
  r = c.post(c.directory_url("revokeCert"), revoke_body);
  BOOST_TEST(r.problem_type() == "alreadyRevoked", r.describe());

  // The log: ACME entities' events carry the account as principal and match their schemas;
  // the certificate was created through the ordinary path, tagged as ACME.
  const std::string account_id = c.kid().substr(c.kid().rfind('/') + 1);
  api rest(server);
  auto events = rest.get("/api/v1/events?limit=1000");
  BOOST_REQUIRE_MESSAGE(events.status == 200, events.describe());
  auto doc = events.json();
  int acme_events = 0;
  bool created_by_account = false;
  // Finalize answers "valid" without waiting for the order's own event; the order reads since
  // then were answered after it, so it is in the log, once.
  const std::string order_stream = "acme_order-" + order_url.substr(order_url.rfind('/') + 1);
  int order_valid_events = 0;
  for (const auto& e : doc["data"].GetArray()) {
    const std::string type = e["type"].GetString(), principal = e["principal"].GetString();
    if (type == "certificate.created" && principal == "acme:" + account_id)
      created_by_account = true;
    if (type == "acme_order.valid" && e.HasMember("stream_id") && e["stream_id"].IsString() &&
        e["stream_id"].GetString() == order_stream)
      ++order_valid_events;
    if (type.rfind("acme_", 0) != 0) continue;
    ++acme_events;
    BOOST_TEST(principal.rfind("acme:acct-", 0) == 0u, type + " by " + principal);
    if (type == "acme_order.valid") BOOST_TEST(principal == "acme:" + account_id);
    rapidjson::Document schema_doc;
    schema_doc.Parse(
        read_file(std::string(CERTCTL_SOURCE_DIR) + "/docs/events/schemas/" + type + ".json")
            .c_str());
    BOOST_REQUIRE_MESSAGE(!schema_doc.HasParseError(), "no schema for " + type);
    rapidjson::SchemaDocument schema(schema_doc);
    rapidjson::SchemaValidator v(schema);
    BOOST_TEST(e["payload"].Accept(v), type + " payload does not match its schema");
  }
  BOOST_TEST(acme_events >= 6);
  BOOST_TEST(order_valid_events == 1);
  BOOST_TEST(created_by_account);
}

BOOST_AUTO_TEST_CASE(negative_suite_answers_each_broken_request_with_its_problem) {
  acme_client c(server);
  BOOST_REQUIRE(c.register_account().status == 201);
  const std::string url = c.directory_url("newOrder");
  const std::string payload = R"({"identifiers":[{"type":"dns","value":"n.example.test"}]})";

  // A nonce we never issued: badNonce, and the answer carries a fresh one.
  auto r = c.send(url, c.sign(url, payload, false, "bm90LWEtbm9uY2U"));
  BOOST_TEST(r.problem_type() == "badNonce", r.describe());
  BOOST_TEST(r.status == 400);
  BOOST_TEST(!r.header("Replay-Nonce").empty());
  BOOST_TEST(r.header("Content-Type") == "application/problem+json");

  // Signed for another URL: unauthorized.
  r = c.send(url, c.sign(c.directory_url("revokeCert"), payload));
  BOOST_TEST(r.problem_type() == "unauthorized", r.describe());

  // The same signed request twice: the second reuses its nonce.
  const std::string once = c.sign(url, payload);
  r = c.send(url, once);
  BOOST_TEST(r.status == 201, r.describe());
  r = c.send(url, once);
  BOOST_TEST(r.problem_type() == "badNonce", r.describe());

  // A signature that does not verify.
  std::string tampered = c.sign(url, payload);
  const auto sig = tampered.find("\"signature\":\"") + 13;
  tampered[sig + 3] = tampered[sig + 3] == 'A' ? 'B' : 'A';
  r = c.send(url, tampered);
  BOOST_TEST(r.problem_type() == "malformed", r.describe());

  // An algorithm we do not accept (HS256 over the account kid).
  const std::string header = R"({"alg":"HS256","kid":")" + c.kid() + R"(","nonce":")" +
                             c.fresh_nonce() + R"(","url":")" + url + "\"}";
  const std::string hs = R"({"protected":")" + crypto::base64url_encode(header) +
                         R"(","payload":")" + crypto::base64url_encode(payload) +
                         R"(","signature":"AAAA"})";
  r = c.send(url, hs);
  BOOST_TEST(r.problem_type() == "badSignatureAlgorithm", r.describe());
  BOOST_TEST(r.body.find("\"algorithms\"") != std::string::npos);

  // An oversized body, and the wrong content type.
  r = c.send(url, std::string(100 * 1024, ' ') + c.sign(url, payload));
  BOOST_TEST(r.problem_type() == "malformed", r.describe());
  BOOST_TEST(r.status == 413);
  r = c.send(url, c.sign(url, payload), "application/json");
  BOOST_TEST(r.problem_type() == "malformed", r.describe());
  BOOST_TEST(r.status == 415);

  // kid where jwk is required, unsupported identifiers.
  r = c.post(c.directory_url("newAccount"), "{}");
  BOOST_TEST(r.problem_type() == "malformed", r.describe());
  r = c.post(url, R"({"identifiers":[{"type":"ip","value":"192.0.2.1"}]})");
  BOOST_TEST(r.problem_type() == "unsupportedIdentifier", r.describe());
  r = c.post(url, R"({"identifiers":[{"type":"dns","value":"bad_name..test"}]})");
  BOOST_TEST(r.problem_type() == "rejectedIdentifier", r.describe());

  // The per-account new-order limit (6 per hour in this fixture): rateLimited + Retry-After.
  bool limited = false;
  for (int i = 0; i < 8 && !limited; ++i) {
    r = c.post(url, payload);
    limited = r.status == 429;
  }
  BOOST_TEST(limited);
  BOOST_TEST(r.problem_type() == "rateLimited", r.describe());
  BOOST_TEST(!r.header("Retry-After").empty());

  // A deactivated account can do nothing more.
  r = c.post(c.kid(), R"({"status":"deactivated"})");
  BOOST_TEST(r.status == 200, r.describe());
  r = c.post(url, payload);
  BOOST_TEST(r.problem_type() == "unauthorized", r.describe());
}

// Finalize sends the certificate, the job (created with the CSR) and the order's move to
// processing together; only the request whose move wins hands the job to a worker.
BOOST_AUTO_TEST_CASE(concurrent_finalizes_of_one_order_issue_one_certificate) {
  acme_client owner(server);
  BOOST_REQUIRE(owner.register_account().status == 201);
  auto order = new_order(owner, {"race.example.test"});
  BOOST_REQUIRE_MESSAGE(order.status == 201, order.describe());
  const std::string order_url = order.header("Location");
  const std::string finalize_url = str_of(order.json(), "finalize");
  constexpr int racers = 4;
  std::vector<std::unique_ptr<acme_client>> clients;
  std::vector<acme_csr> csrs;
  for (int i = 0; i < racers; ++i) {
    clients.push_back(std::make_unique<acme_client>(server));
    clients.back()->set_key(owner.key_pem());
    BOOST_REQUIRE(clients.back()->register_account().status == 200);  // the same account
    csrs.push_back(make_acme_csr({"race.example.test"}));
  }
  std::vector<acme_response> answers(racers);
  std::vector<std::thread> threads;
  for (int i = 0; i < racers; ++i)
    threads.emplace_back([&, i] {
      answers[static_cast<size_t>(i)] = clients[static_cast<size_t>(i)]->post(
          finalize_url, R"({"csr":")" + csrs[i].der_b64url + "\"}");
    });
  for (auto& t : threads) t.join();
  int accepted = 0;
  for (const auto& a : answers) {
    if (a.status == 200)
      ++accepted;
    else
      BOOST_TEST(a.problem_type() == "orderNotReady", a.describe());
  }
  BOOST_TEST(accepted == 1);
  const auto valid = poll_order(owner, order_url);
  BOOST_REQUIRE_EQUAL(str_of(valid, "status"), "valid");

  // One certificate version; the job took its CSR at creation and ran once. The job's id
  // starts like the order's (its suffix, then the order it is placed with).
  const std::string cert_url = str_of(valid, "certificate");
  const std::string cert_stream = "certificate-" + cert_url.substr(cert_url.rfind('/') + 1);
  const std::string job_stream = "job-job-" + order_url.substr(order_url.rfind('/') + 1 + 4);
  api rest(server);
  int issued = 0;
  std::vector<std::string> job_events;
  // job.completed is submitted after certificate.issued, not awaited: wait for it to land.
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto events = rest.get("/api/v1/events?limit=1000");
    BOOST_REQUIRE_MESSAGE(events.status == 200, events.describe());
    auto doc = events.json();
    issued = 0;
    job_events.clear();
    for (const auto& e : doc["data"].GetArray()) {
      if (!e.HasMember("stream_id") || !e["stream_id"].IsString()) continue;
      const std::string stream = e["stream_id"].GetString(), type = e["type"].GetString();
      if (stream == cert_stream && type == "certificate.issued") ++issued;
      if (stream.rfind(job_stream, 0) == 0) job_events.push_back(type);
    }
    if (job_events.size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(issued == 1);
  // Oldest first or newest first, the job's four events and nothing else.
  std::vector<std::string> want{"job.created", "job.csr_submitted", "job.started", "job.completed"};
  if (!job_events.empty() && job_events.front() == "job.completed")
    std::reverse(want.begin(), want.end());
  BOOST_TEST(job_events == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
