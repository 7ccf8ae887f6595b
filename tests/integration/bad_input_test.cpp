// What a client gets for bad requests, and who the audit log says did what.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

constexpr std::int64_t max_body = 4096;

server_options small_bodies() {
  server_options o;
  o.extra_env["CERTCTL_MAX_BODY_BYTES"] = std::to_string(max_body);
  return o;
}

/// The error envelope every failure uses: {"error": "...", "request_id": "..."}.
void check_error_envelope(const api_response& r) {
  auto doc = r.json();
  BOOST_TEST(!str(doc, "error").empty(), r.body);
  BOOST_TEST(!str(doc, "request_id").empty(), r.body);
  BOOST_TEST(str(doc, "request_id") == r.header("X-Request-Id"));
}

/// Audit events matching `query` (e.g. "action=auth.denied"), polled until at least one shows:
/// events without an HTTP position (auth failures) reach the projection asynchronously.
rapidjson::Document audit_events(api& client, const std::string& query,
                                 std::int64_t wait_position = 0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    auto r = client.get("/api/v1/audit?per_page=500&" + query, wait_position);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    if (!doc["data"].GetArray().Empty() || std::chrono::steady_clock::now() > deadline) return doc;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(each_bad_request_gets_its_status_and_the_error_envelope) {
  temp_dir dir;
  server_process server(dir.path + "/data", small_bodies());
  api admin(server);

  auto malformed = admin.post("/api/v1/certificates", R"({"name": "x",)");
  BOOST_TEST(malformed.status == 400, malformed.describe());
  check_error_envelope(malformed);

  auto oversized =
      admin.post("/api/v1/certificates", R"({"name":")" + std::string(2 * max_body, 'a') + R"("})");
  BOOST_TEST(oversized.status == 413, oversized.describe());
  if (oversized.status == 413) check_error_envelope(oversized);

  auto missing = admin.post(
      "/api/v1/certificates",
      R"({"name":"n","renewal_policy_id":"rp","issuer_id":"iss-local","owner_id":"o","team_id":"t"})");
  BOOST_TEST(missing.status == 400, missing.describe());
  check_error_envelope(missing);
  BOOST_TEST(str(missing.json(), "error").find("common_name") != std::string::npos, missing.body);

  auto unknown = admin.get("/api/v1/certificates/mc-doesnotexist");
  BOOST_TEST(unknown.status == 404, unknown.describe());
  check_error_envelope(unknown);

  api viewer(server, viewer_key);
  BOOST_TEST(viewer.get("/api/v1/certificates").status == 200);
  auto forbidden = viewer.post("/api/v1/certificates", certificate_body("v", "v.example.test", {}));
  BOOST_TEST(forbidden.status == 403, forbidden.describe());
  check_error_envelope(forbidden);
}

BOOST_AUTO_TEST_CASE(a_wrong_api_key_is_refused_and_audited) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api intruder(server, "cc_not-a-real-key");
  auto denied = intruder.get("/api/v1/certificates");
  BOOST_TEST(denied.status == 401, denied.describe());
  check_error_envelope(denied);
  BOOST_TEST(denied.header("WWW-Authenticate") == "Bearer");

  api admin(server);
  auto doc = audit_events(admin, "action=auth.denied");
  BOOST_REQUIRE_MESSAGE(!doc["data"].GetArray().Empty(), "no auth.denied event in the audit list");
  const auto& e = doc["data"][0];
  BOOST_TEST(str(e, "action") == "auth.denied");
  BOOST_TEST(str(e, "correlation_id") == denied.header("X-Request-Id"));
  BOOST_TEST(str(e["details"], "path") == "/api/v1/certificates");
}

BOOST_AUTO_TEST_CASE(audit_events_name_the_api_key_that_acted) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api op(server, operator_key);
  const std::string id = issue_active(op, certificate_body("actor", "actor.example.test", {}));
  auto renew = op.post("/api/v1/certificates/" + id + "/renew", "");
  BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());

  api admin(server);
  auto doc = audit_events(admin, "resource_type=certificate&resource_id=" + id, renew.position());
  const auto events = doc["data"].GetArray();
  BOOST_REQUIRE(!events.Empty());
  bool saw_create = false;
  for (const auto& e : events) {
    BOOST_TEST(str(e, "actor") == "apikey:it-operator", str(e, "action")
                                                            << " by " << str(e, "actor"));
    if (str(e, "action") == "certificate.created") saw_create = true;
  }
  BOOST_TEST(saw_create);
  // Filtering by actor finds the same principal's events, and nothing for another key.
  BOOST_TEST(!audit_events(admin, "actor=apikey:it-operator")["data"].GetArray().Empty());
  auto none = admin.get("/api/v1/audit?actor=apikey:it-viewer");
  BOOST_TEST(none.json()["data"].GetArray().Empty(), none.body);
}

BOOST_AUTO_TEST_CASE(each_input_limit_answers_as_documented_and_the_server_stays_up) {
  // The table in docs/security-limits.md, one request per limit, then /health.
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  auto raw = server.client(admin_key);

  httplib::Headers many;
  for (int i = 0; i < 150; ++i) many.emplace("X-Filler-" + std::to_string(i), "x");
  auto headers = raw->Get("/api/v1/certificates", many);
  BOOST_REQUIRE(headers);
  BOOST_TEST(headers->status == 431, headers->body);

  std::string query = "/api/v1/certificates?per_page=1";
  for (int i = 0; i < 150; ++i) query += "&p" + std::to_string(i) + "=1";
  auto params = admin.get(query);
  BOOST_TEST(params.status == 414, params.describe());
  check_error_envelope(params);
  BOOST_TEST(admin.get("/api/v1/certificates?per_page=1&p1=1&p2=2").status == 200);

  auto long_url = raw->Get("/api/v1/certificates?x=" + std::string(9000, 'a'));
  BOOST_REQUIRE(long_url);
  BOOST_TEST(long_url->status == 414);

  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  auto nested = admin.post("/api/v1/certificates", R"({"name":"n","tags":)" + deep + "}");
  BOOST_TEST(nested.status == 400, nested.describe());

  std::string sans = "[";
  for (int i = 0; i < 101; ++i) sans += (i ? ",\"" : "\"") + std::to_string(i) + ".example.test\"";
  sans += "]";
  auto body = certificate_body("sans", "sans.example.test", {});
  const std::string empty_sans = R"("sans":[])";
  auto too_many = body;
  too_many.replace(too_many.find(empty_sans), empty_sans.size(), R"("sans":)" + sans);
  auto many_sans = admin.post("/api/v1/certificates", too_many);
  BOOST_TEST(many_sans.status == 400, many_sans.describe());
  auto too_long = body;
  too_long.replace(too_long.find(empty_sans), empty_sans.size(),
                   R"("sans":[")" + std::string(1025, 'a') + R"("])");
  auto long_san = admin.post("/api/v1/certificates", too_long);
  BOOST_TEST(long_san.status == 400, long_san.describe());
  // The same limits on update.
  auto made = admin.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto update =
      admin.put("/api/v1/certificates/" + str(made.json(), "id"), R"({"sans":)" + sans + "}");
  BOOST_TEST(update.status == 400, update.describe());

  // An agent's discovery report: at most 5,000 certificates.
  BOOST_REQUIRE(admin.post("/api/v1/agents", R"({"id":"agent-limits","name":"limits"})").status ==
                201);
  std::string items = "[";
  for (int i = 0; i < 5001; ++i)
    items += std::string(i ? "," : "") + R"({"pem_data":"x","source_path":"/p"})";
  items += "]";
  auto report =
      admin.post("/api/v1/agents/agent-limits/discoveries", R"({"certificates":)" + items + "}");
  BOOST_TEST(report.status == 400, report.describe());
  BOOST_TEST(str(report.json(), "error").find("at most 5000") != std::string::npos, report.body);

  auto health = raw->Get("/health");
  BOOST_REQUIRE(health);
  BOOST_TEST(health->status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
