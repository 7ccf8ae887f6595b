// The operations around the certificate lifecycle, end to end against the built server: auth
// discovery, bulk renew and reassign, the issuer connection test, the agent's certificate
// pickup and the dashboard statistics. Each has its bad-input cases; every JSON answer is
// captured for spec_check.py.
#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

std::int64_t num(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return -1;
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

/// {"certificate_ids": [...]} plus `rest` (e.g. R"(,"owner_id":"o")").
std::string ids_body(const std::vector<std::string>& ids, const std::string& rest = "") {
  std::string s = R"({"certificate_ids":[)";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? ",\"" : "\"") + ids[i] + "\"";
  return s + "]" + rest + "}";
}

std::vector<std::string> many_ids(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("mc-bulk-" + std::to_string(i));
  return out;
}

/// The error envelope the router renders for every failure.
void expect_error(const api_response& r, int status) {
  BOOST_TEST(r.status == status, r.describe());
  BOOST_TEST(!str(r.json(), "error").empty(), r.body);
}

std::string create_policy(api& client) {
  auto policy =
      client.post("/api/v1/renewal-policies", R"({"name":"ops","renewal_window_days":30})");
  BOOST_REQUIRE_MESSAGE(policy.status == 201, policy.describe());
  return str(policy.json(), "id");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(operations)

BOOST_AUTO_TEST_CASE(auth_info_is_public_and_auth_check_names_the_caller) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api anonymous(server, "");
  auto info = anonymous.get("/api/v1/auth/info");
  BOOST_REQUIRE_MESSAGE(info.status == 200, info.describe());
  BOOST_TEST(str(info.json(), "auth_type") == "api-key");
  BOOST_TEST(info.json()["required"].GetBool());

  api viewer(server, viewer_key);
  auto check = viewer.get("/api/v1/auth/check");
  BOOST_REQUIRE_MESSAGE(check.status == 200, check.describe());
  BOOST_TEST(str(check.json(), "status") == "authenticated");
  BOOST_TEST(str(check.json(), "principal") == "apikey:it-viewer");
  BOOST_TEST(str(check.json(), "role") == "viewer");

  expect_error(anonymous.get("/api/v1/auth/check"), 401);
  api wrong(server, "cc_not-a-real-key");
  expect_error(wrong.get("/api/v1/auth/check"), 401);
}

BOOST_AUTO_TEST_CASE(auth_info_reports_disabled_authentication) {
  temp_dir dir;
  server_options opts;
  opts.extra_env["CERTCTL_AUTH_TYPE"] = "none";
  server_process server(dir.path + "/data", opts);
  api anonymous(server, "");
  auto info = anonymous.get("/api/v1/auth/info");
  BOOST_REQUIRE_MESSAGE(info.status == 200, info.describe());
  BOOST_TEST(str(info.json(), "auth_type") == "none");
  BOOST_TEST(!info.json()["required"].GetBool());
  auto check = anonymous.get("/api/v1/auth/check");
  BOOST_REQUIRE_MESSAGE(check.status == 200, check.describe());
  BOOST_TEST(str(check.json(), "principal") == "anonymous");
}

BOOST_AUTO_TEST_CASE(issuer_test_and_agent_pickup) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);

  // The built-in CA signs a throwaway certificate; nothing is recorded for it.
  auto local = admin.post("/api/v1/issuers/iss-local/test", "");
  BOOST_REQUIRE_MESSAGE(local.status == 200, local.describe());
  BOOST_TEST(str(local.json(), "status") == "success");
  auto certificate_events = admin.get("/api/v1/audit?resource_type=certificate");
  BOOST_TEST(certificate_events.json()["data"].GetArray().Empty(), certificate_events.body);

  // An issuer whose config its connector cannot use is refused (never served by the local CA
  // instead), so there is nothing to test; unknown issuers do not exist. (A type without a
  // connector: tests/connectors/issuer_routes_test.)
  auto no_connector =
      admin.post("/api/v1/issuers", R"({"id":"iss-dc","name":"DigiCert","type":"DigiCert"})");
  expect_error(no_connector, 400);
  BOOST_TEST(str(no_connector.json(), "error").find("config field 'api_key' is required") == 0,
             no_connector.body);
  expect_error(admin.post("/api/v1/issuers/iss-dc/test", ""), 404);
  expect_error(admin.post("/api/v1/issuers/iss-nowhere/test", ""), 404);
  api viewer(server, viewer_key);
  expect_error(viewer.post("/api/v1/issuers/iss-local/test", ""), 403);

  // Pickup: the agent gets the issued chain, the same PEM the export shows.
  auto agent = admin.post("/api/v1/agents", R"({"name":"edge-p","hostname":"edge-p.internal"})");
  BOOST_REQUIRE_MESSAGE(agent.status == 201, agent.describe());
  const std::string agent_id = str(agent.json(), "id");
  const std::string cert =
      issue_active(admin, certificate_body("pickup", "pickup.example.test", {}));
  wait_for_versions(admin, cert, 1);
  api op(server, operator_key);
  auto picked = op.get("/api/v1/agents/" + agent_id + "/certificates/" + cert);
  BOOST_REQUIRE_MESSAGE(picked.status == 200, picked.describe());
  const std::string pem = str(picked.json(), "certificate_pem");
  BOOST_TEST(pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0u, pem);
  auto exported = admin.get("/api/v1/certificates/" + cert + "/export/pem");
  BOOST_REQUIRE_MESSAGE(exported.status == 200, exported.describe());
  BOOST_TEST(pem == str(exported.json(), "full_pem"));

  expect_error(op.get("/api/v1/agents/agent-nowhere/certificates/" + cert), 404);
  expect_error(op.get("/api/v1/agents/" + agent_id + "/certificates/mc-nowhere"), 404);
  expect_error(viewer.get("/api/v1/agents/" + agent_id + "/certificates/" + cert), 403);
}

BOOST_AUTO_TEST_CASE(bulk_renew_and_reassign_report_each_certificate) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  const std::string policy = create_policy(admin);  // policies are admin-only
  api client(server, operator_key);
  const std::string a =
      issue_active(client, certificate_body("bulk-a", "a.example.test", {}, policy));
  const std::string b =
      issue_active(client, certificate_body("bulk-b", "b.example.test", {}, policy));
  const std::string gone =
      issue_active(client, certificate_body("bulk-r", "r.example.test", {}, policy));
  auto revoked =
      client.post("/api/v1/certificates/" + gone + "/revoke", R"({"reason":"superseded"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());

  // By ids: two enqueued, the revoked one skipped, the unknown one failed.
  auto renew = client.post("/api/v1/certificates/bulk-renew", ids_body({a, b, gone, "mc-nowhere"}));
  BOOST_REQUIRE_MESSAGE(renew.status == 200, renew.describe());
  auto r = renew.json();
  BOOST_TEST(num(r, "total_matched") == 4);
  BOOST_TEST(num(r, "total_enqueued") == 2);
  BOOST_TEST(num(r, "total_skipped") == 1);
  BOOST_TEST(num(r, "total_failed") == 1);
  BOOST_REQUIRE(r["enqueued_jobs"].Size() == 2u);
  BOOST_TEST(str(r["enqueued_jobs"][0], "certificate_id") == a);
  BOOST_TEST(!str(r["enqueued_jobs"][0], "job_id").empty());
  BOOST_TEST(str(r["errors"][0], "certificate_id") == "mc-nowhere");
  BOOST_TEST(renew.position() > revoked.position());
  wait_for_versions(client, a, 2, renew.position());
  wait_for_versions(client, b, 2);
  wait_for_certificate(client, a, {"Active"});
  wait_for_certificate(client, b, {"Active"});

  // By criteria: the read model selects the three certificates of this owner and policy.
  auto by_owner = client.post("/api/v1/certificates/bulk-renew",
                              R"({"owner_id":"owner-it","issuer_id":"iss-local"})");
  BOOST_REQUIRE_MESSAGE(by_owner.status == 200, by_owner.describe());
  BOOST_TEST(num(by_owner.json(), "total_matched") == 3);
  BOOST_TEST(num(by_owner.json(), "total_enqueued") == 2);
  BOOST_TEST(num(by_owner.json(), "total_skipped") == 1);
  wait_for_versions(client, a, 3, by_owner.position());

  // Reassign: owner checked first; unchanged certificates are skipped on a repeat.
  auto owner = client.post("/api/v1/owners", R"({"id":"owner-new","name":"New Owner"})");
  BOOST_REQUIRE_MESSAGE(owner.status == 201, owner.describe());
  const std::string reassign_body =
      ids_body({a, b, "mc-nowhere"}, R"(,"owner_id":"owner-new","team_id":"team-new")");
  auto moved = client.post("/api/v1/certificates/bulk-reassign", reassign_body);
  BOOST_REQUIRE_MESSAGE(moved.status == 200, moved.describe());
  BOOST_TEST(num(moved.json(), "total_matched") == 3);
  BOOST_TEST(num(moved.json(), "total_reassigned") == 2);
  BOOST_TEST(num(moved.json(), "total_failed") == 1);
  BOOST_TEST(moved.position() > 0);
  auto now_a = client.get("/api/v1/certificates/" + a, moved.position());
  BOOST_TEST(str(now_a.json(), "owner_id") == "owner-new");
  BOOST_TEST(str(now_a.json(), "team_id") == "team-new");
  auto again = client.post("/api/v1/certificates/bulk-reassign", reassign_body);
  BOOST_REQUIRE_MESSAGE(again.status == 200, again.describe());
  BOOST_TEST(num(again.json(), "total_reassigned") == 0);
  BOOST_TEST(num(again.json(), "total_skipped") == 2);
  BOOST_TEST(again.header("X-Certctl-Position").empty(), "nothing was written");
}

BOOST_AUTO_TEST_CASE(bulk_requests_without_a_selection_or_too_large_are_refused) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server, operator_key);
  const std::string renew = "/api/v1/certificates/bulk-renew";
  const std::string reassign = "/api/v1/certificates/bulk-reassign";
  expect_error(client.post(renew, "{}"), 400);
  expect_error(client.post(renew, R"({"certificate_ids":[]})"), 400);
  expect_error(client.post(renew, R"({"certificate_ids":"mc-1"})"), 400);
  expect_error(client.post(renew, R"({"owner_id":7})"), 400);
  expect_error(client.post(renew, R"({"certificate_ids":["mc-1"],)"), 400);
  expect_error(client.post(renew, ids_body(many_ids(1001))), 400);

  expect_error(client.post(reassign, R"({"owner_id":"owner-it"})"), 400);
  expect_error(client.post(reassign, ids_body({"mc-1"})), 400);
  expect_error(client.post(reassign, ids_body({"mc-1"}, R"(,"owner_id":"owner-ghost")")), 400);
  expect_error(client.post(reassign, ids_body(many_ids(1001), R"(,"owner_id":"owner-it")")), 400);

  api viewer(server, viewer_key);
  expect_error(viewer.post(renew, ids_body({"mc-1"})), 403);
  expect_error(viewer.post(reassign, ids_body({"mc-1"}, R"(,"owner_id":"o")")), 403);
}

BOOST_AUTO_TEST_CASE(stats_series_cover_the_requested_days) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);
  const std::string policy = create_policy(client);
  const std::string a =
      issue_active(client, certificate_body("st-a", "sa.example.test", {}, policy));
  const std::string b =
      issue_active(client, certificate_body("st-b", "sb.example.test", {}, policy));
  wait_for_versions(client, a, 1);
  wait_for_versions(client, b, 1);
  api viewer(server, viewer_key);

  auto by_status = viewer.get("/api/v1/stats/certificates-by-status");
  BOOST_REQUIRE_MESSAGE(by_status.status == 200, by_status.describe());
  auto counts = by_status.json();
  BOOST_REQUIRE(counts["status_counts"].Size() == 1u);
  BOOST_TEST(str(counts["status_counts"][0], "status") == "Active");
  BOOST_TEST(num(counts["status_counts"][0], "count") == 2);

  // Issued for the CA's default lifetime (398 days): nothing expires within a week.
  auto timeline = viewer.get("/api/v1/stats/expiration-timeline?days=7");
  BOOST_REQUIRE_MESSAGE(timeline.status == 200, timeline.describe());
  BOOST_REQUIRE(timeline.json()["buckets"].Size() == 7u);
  BOOST_TEST(str(timeline.json()["buckets"][0], "date").size() == 10u);
  auto whole = viewer.get("/api/v1/stats/expiration-timeline");
  BOOST_TEST(whole.json()["buckets"].Size() == 30u);

  auto rate = viewer.get("/api/v1/stats/issuance-rate?days=1");
  BOOST_REQUIRE_MESSAGE(rate.status == 200, rate.describe());
  BOOST_REQUIRE(rate.json()["rate"].Size() == 1u);
  BOOST_TEST(num(rate.json()["rate"][0], "count") == 2);

  auto trends = viewer.get("/api/v1/stats/job-trends?days=365");
  BOOST_REQUIRE_MESSAGE(trends.status == 200, trends.describe());
  const auto trend_doc = trends.json();
  BOOST_REQUIRE(trend_doc["trends"].Size() == 365u);
  std::int64_t completed = 0;
  for (const auto& d : trend_doc["trends"].GetArray()) completed += num(d, "completed");
  BOOST_TEST(completed == 2);

  for (const char* bad : {"days=0", "days=366", "days=abc", "days=-3"}) {
    expect_error(viewer.get(std::string("/api/v1/stats/job-trends?") + bad), 400);
    expect_error(viewer.get(std::string("/api/v1/stats/issuance-rate?") + bad), 400);
    expect_error(viewer.get(std::string("/api/v1/stats/expiration-timeline?") + bad), 400);
  }
  api anonymous(server, "");
  expect_error(anonymous.get("/api/v1/stats/certificates-by-status"), 401);
}

BOOST_AUTO_TEST_SUITE_END()
