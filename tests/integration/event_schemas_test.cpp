// The documented event contract (docs/events.md, docs/events/schemas/*.json) against what the
// built server really writes: a full run through the lifecycle, then every event read back over
// GET /api/v1/events must have a payload schema for its type, validate against it, and carry
// an envelope that validates against docs/events/envelope.schema.json.
#include <rapidjson/error/en.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
namespace fs = std::filesystem;

namespace {

const std::string docs_dir = std::string(CERTCTL_SOURCE_DIR) + "/docs/events";

std::unique_ptr<rapidjson::SchemaDocument> load_schema(const std::string& path) {
  rapidjson::Document d;
  const std::string text = read_file(path);
  d.Parse(text.c_str());
  BOOST_REQUIRE_MESSAGE(
      !d.HasParseError() && d.IsObject(),
      path << ": not a JSON object: " << rapidjson::GetParseError_En(d.GetParseError()));
  return std::make_unique<rapidjson::SchemaDocument>(d);
}

/// Empty when `value` conforms, else where and which keyword failed.
std::string violation(const rapidjson::SchemaDocument& schema, const rapidjson::Value& value) {
  rapidjson::SchemaValidator v(schema);
  if (value.Accept(v)) return {};
  rapidjson::StringBuffer schema_at, doc_at;
  v.GetInvalidSchemaPointer().StringifyUriFragment(schema_at);
  v.GetInvalidDocumentPointer().StringifyUriFragment(doc_at);
  return std::string("keyword '") + v.GetInvalidSchemaKeyword() + "' at schema " +
         schema_at.GetString() + ", value " + doc_at.GetString();
}

std::string created_id(api_response r) {
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return str(r.json(), "id");
}

void expect_status(const api_response& r, int status) {
  BOOST_REQUIRE_MESSAGE(r.status == status, r.describe());
}

/// Drives every kind of change a single server run can make through the public API.
void run_lifecycle(server_process& server) {
  api admin(server);
  const std::string profile = created_id(admin.post("/api/v1/profiles", R"({"name":"web"})"));
  expect_status(admin.put("/api/v1/profiles/" + profile, R"({"description":"web servers"})"), 200);
  const std::string policy = created_id(
      admin.post("/api/v1/renewal-policies", R"({"name":"p30","renewal_window_days":30})"));
  expect_status(admin.put("/api/v1/renewal-policies/" + policy, R"({"max_retries":2})"), 200);
  const std::string team = created_id(admin.post("/api/v1/teams", R"({"name":"platform"})"));
  expect_status(admin.put("/api/v1/teams/" + team, R"({"description":"the platform team"})"), 200);
  const std::string owner = created_id(admin.post(
      "/api/v1/owners", R"({"name":"ana","email":"ana@example.test","team_id":")" + team + "\"}"));
  expect_status(admin.put("/api/v1/owners/" + owner, R"({"email":"ana@corp.example.test"})"), 200);
  expect_status(admin.put("/api/v1/issuers/iss-local", R"({"enabled":true})"), 200);
  const std::string issuer = created_id(
      // A config the GenericCA schema knows (unknown config fields are refused with a 400).
      admin.post(
          "/api/v1/issuers",
          R"({"name":"spare","type":"GenericCA","config":{"intermediate_id":"iss-local"}})"));

  // A certificate from creation to archive: issue, edit, renew, revoke, archive.
  const std::string cert = issue_active(
      admin, certificate_body("shop", "shop.example.test", {"shop.example.test"}, policy));
  expect_status(admin.put("/api/v1/certificates/" + cert, R"({"environment":"production"})"), 200);
  auto renew = admin.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renew.status == 202 || renew.status == 200, renew.describe());
  wait_for_versions(admin, cert, 2, renew.position());
  wait_for_certificate(admin, cert, {"Active"});
  expect_status(
      admin.post("/api/v1/certificates/" + cert + "/revoke", R"({"reason":"superseded"})"), 200);
  auto archived = admin.del("/api/v1/certificates/" + cert);
  BOOST_REQUIRE_MESSAGE(archived.status == 204 || archived.status == 200, archived.describe());

  // Agents: register, report, retire.
  const std::string agent = created_id(admin.post(
      "/api/v1/agents", R"({"name":"edge-1","hostname":"edge-1.internal","os":"linux"})"));
  expect_status(admin.post("/api/v1/agents/" + agent + "/heartbeat", R"({"version":"1.2.3"})"),
                200);
  auto retired = admin.del("/api/v1/agents/" + agent);
  BOOST_REQUIRE_MESSAGE(retired.status == 204 || retired.status == 200, retired.describe());

  // Deletes of every resource kind.
  for (const auto& path : {"/api/v1/profiles/" + profile, "/api/v1/teams/" + team,
                           "/api/v1/owners/" + owner, "/api/v1/issuers/" + issuer}) {
    expect_status(admin.del(path), 204);
  }
  const std::string spare_policy =
      created_id(admin.post("/api/v1/renewal-policies", R"({"name":"spare"})"));
  expect_status(admin.del("/api/v1/renewal-policies/" + spare_policy), 204);

  // Denials are audited as events too.
  api stranger(server, "not-a-key-0123456789");
  BOOST_TEST(stranger.get("/api/v1/certificates").status == 401);
  api viewer(server, viewer_key);
  BOOST_TEST(viewer.post("/api/v1/teams", R"({"name":"x"})").status == 403);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_schemas)

BOOST_AUTO_TEST_CASE(every_schema_file_compiles_and_is_documented) {
  const std::string doc = read_file(std::string(CERTCTL_SOURCE_DIR) + "/docs/events.md");
  int count = 0;
  for (const auto& f : fs::directory_iterator(docs_dir + "/schemas")) {
    const std::string type = f.path().stem().string();
    BOOST_TEST(f.path().extension() == ".json");
    load_schema(f.path().string());
    BOOST_TEST(doc.find("`" + type + "`") != std::string::npos,
               "docs/events.md does not document " << type);
    ++count;
  }
  BOOST_TEST(count >= 30);
  load_schema(docs_dir + "/envelope.schema.json");
}

BOOST_AUTO_TEST_CASE(a_full_run_writes_only_documented_payloads) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  run_lifecycle(server);
  {  // a network scan target's life: its scan of a documentation range is refused by the guard
    api admin(server);
    auto target = admin.post("/api/v1/network-scan-targets",
                             R"({"name":"schemas","cidrs":["192.0.2.0/30"],"ports":[443]})");
    BOOST_REQUIRE_MESSAGE(target.status == 201, target.describe());
    const std::string id = str(target.json(), "id");
    BOOST_REQUIRE(
        admin.put("/api/v1/network-scan-targets/" + id, R"({"ports":[443,8443]})").status == 200);
    BOOST_REQUIRE(admin.post("/api/v1/network-scan-targets/" + id + "/scan", "").status == 200);
    BOOST_REQUIRE(admin.del("/api/v1/network-scan-targets/" + id).status == 204);
  }

  api viewer(server, viewer_key);
  // auth.denied is appended asynchronously; the last write above may not be the head yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto envelope = load_schema(docs_dir + "/envelope.schema.json");
  std::map<std::string, std::unique_ptr<rapidjson::SchemaDocument>> schemas;
  std::map<std::string, int> seen;
  std::int64_t after = 0, head = -1;
  while (after != head) {
    auto r = viewer.get("/api/v1/events?limit=1000&after=" + std::to_string(after));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto page = r.json();
    head = page["head"].GetInt64();
    for (const auto& e : page["data"].GetArray()) {
      const std::string type = str(e, "type");
      const std::string where = "event " + std::to_string(e["position"].GetInt64()) + " " + type;
      auto bad = violation(*envelope, e);
      BOOST_TEST(bad.empty(), where << " envelope: " << bad);
      const std::string file = docs_dir + "/schemas/" + type + ".json";
      BOOST_REQUIRE_MESSAGE(fs::exists(file), where << ": no schema " << file);
      auto& schema = schemas[type];
      if (!schema) schema = load_schema(file);
      bad = violation(*schema, e["payload"]);
      BOOST_TEST(bad.empty(), where << " payload: " << bad);
      ++seen[type];
    }
    after = page["next_after"].GetInt64();
  }
  // The run must have exercised the bulk of the catalogue, or this test proves little.
  for (const char* type : {"certificate.created",
                           "certificate.updated",
                           "certificate.issued",
                           "certificate.renewal_requested",
                           "certificate.revoked",
                           "certificate.archived",
                           "job.created",
                           "job.started",
                           "job.completed",
                           "issuer.created",
                           "issuer.updated",
                           "issuer.deleted",
                           "profile.created",
                           "profile.updated",
                           "profile.deleted",
                           "renewal_policy.created",
                           "renewal_policy.updated",
                           "renewal_policy.deleted",
                           "team.created",
                           "team.updated",
                           "team.deleted",
                           "owner.created",
                           "owner.updated",
                           "owner.deleted",
                           "agent.registered",
                           "agent.heartbeat_received",
                           "agent.retired",
                           "network_scan_target.created",
                           "network_scan_target.updated",
                           "network_scan_target.scan_recorded",
                           "network_scan_target.deleted",
                           "discovery_scan.completed",
                           "auth.denied"}) {
    BOOST_TEST(seen[type] > 0, "the run wrote no " << type);
  }
}

BOOST_AUTO_TEST_SUITE_END()
