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

BOOST_AUTO_TEST_SUITE_END()
