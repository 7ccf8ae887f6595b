// The whole reference API against a running server: seeds realistic data (a live certificate
// with its job and serial, every configuration resource, an agent, a policy rule, an agent
// group, an approval request; and a second set the destructive operations may consume), then
// runs spec_sweep.py, which sends one request per operation of the spec and checks the status
// is one the spec lists and the body validates. Known gaps: spec_sweep_gaps.txt.
#define BOOST_TEST_MODULE integration_spec_sweep
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

std::string created_id(api& client, const std::string& path, const std::string& body) {
  auto r = client.post(path, body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, path << ": " << r.describe());
  return str(r.json(), "id");
}

/// Field `key` of the first item of a list answer; a test failure when the list is empty.
std::string first(api& client, const std::string& path, const char* key,
                  std::int64_t wait_position = 0) {
  auto r = client.get(path, wait_position);
  BOOST_REQUIRE_MESSAGE(r.status == 200, path << ": " << r.describe());
  auto doc = r.json();
  BOOST_REQUIRE_MESSAGE(doc.HasMember("data") && doc["data"].IsArray() && !doc["data"].Empty(),
                        path << ": " << r.describe());
  return str(doc["data"][0], key);
}

/// A certificate under a profile that requires approval, requested by `requester` (so the
/// admin may decide it); returns its approval request id and its job id.
std::pair<std::string, std::string> awaiting_approval(api& admin, api& requester,
                                                      const std::string& name,
                                                      const std::string& renewal_policy) {
  const std::string guarded = created_id(
      admin, "/api/v1/profiles", R"({"name":"guarded )" + name + R"(","requires_approval":true})");
  auto body = certificate_body(name, name + ".guarded.example.com", {}, renewal_policy);
  body.insert(body.size() - 1, R"(,"certificate_profile_id":")" + guarded + "\"");
  auto waiting = requester.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(waiting.status == 201, waiting.describe());
  const std::string cert = str(waiting.json(), "id");
  return {first(admin, "/api/v1/approvals?certificate_id=" + cert, "id", waiting.position()),
          first(admin, "/api/v1/jobs?certificate_id=" + cert, "id", waiting.position())};
}

/// The resources the sweep's paths name, created through the API; `tag` keeps names unique.
std::map<std::string, std::string> seed(api& client, api& requester, const std::string& tag) {
  std::map<std::string, std::string> ids;
  ids["renewal_policy"] = created_id(client, "/api/v1/renewal-policies",
                                     R"({"name":"sweep )" + tag + R"(","renewal_window_days":30})");
  ids["team"] = created_id(client, "/api/v1/teams", R"({"name":"team )" + tag + "\"}");
  ids["owner"] = created_id(client, "/api/v1/owners",
                            R"({"name":"owner )" + tag + R"(","email":"o@example.com"})");
  ids["profile"] = created_id(client, "/api/v1/profiles", R"({"name":"profile )" + tag + "\"}");
  ids["issuer"] = created_id(client, "/api/v1/issuers",
                             R"({"name":"issuer )" + tag + R"(","type":"GenericCA","config":{}})");
  ids["policy"] = created_id(
      client, "/api/v1/policies",
      R"({"name":"rule )" + tag +
          R"(","type":"AllowedEnvironments","config":{"environments":["production","test"]}})");
  ids["agent_group"] =
      created_id(client, "/api/v1/agent-groups", R"({"name":"group )" + tag + "\"}");
  ids["agent"] =
      created_id(client, "/api/v1/agents",
                 R"({"name":"agent-)" + tag + R"(","os":"linux","architecture":"amd64"})");
  ids["health_check"] = created_id(
      client, "/api/v1/health-checks",
      R"({"endpoint":")" + tag + R"(.sweep.example.com:443","check_interval_seconds":300})");
  // A documentation range: the guard refuses it, so its scan probes nothing (200, no findings).
  ids["network_scan_target"] =
      created_id(client, "/api/v1/network-scan-targets",
                 R"({"name":"scan )" + tag + R"(","cidrs":["192.0.2.0/30"],"ports":[443]})");
  auto cert = client.post(
      "/api/v1/certificates",
      certificate_body("sweep-" + tag, tag + ".sweep.example.com", {}, ids["renewal_policy"]));
  BOOST_REQUIRE_MESSAGE(cert.status == 201, cert.describe());
  ids["certificate"] = str(cert.json(), "id");
  wait_for_certificate(client, ids["certificate"], {"Active"});
  ids["job"] = first(client, "/api/v1/jobs?certificate_id=" + ids["certificate"], "id");
  ids["serial"] =
      first(client, "/api/v1/certificates/" + ids["certificate"] + "/versions", "serial_number");

  // Approval requests (the operator asked, the admin decides): one to decide, one job to
  // cancel, one to reject by job id.
  ids["approval"] =
      awaiting_approval(client, requester, "approve-" + tag, ids["renewal_policy"]).first;
  ids["cancel_job"] =
      awaiting_approval(client, requester, "cancel-" + tag, ids["renewal_policy"]).second;
  ids["reject_job"] =
      awaiting_approval(client, requester, "reject-" + tag, ids["renewal_policy"]).second;
  ids["local_issuer"] = "iss-local";
  ids["target"] = created_id(
      client, "/api/v1/targets",
      R"({"name":"web )" + tag + R"(","type":"NGINX","agent_id":")" + ids["agent"] +
          R"(","config":{"cert_path":"/tmp/certctl-sweep/c.pem","key_path":"/tmp/certctl-sweep/k.pem","reload_command":"true"}})");
  // What POST /certificates/bulk-revoke consumes (the doomed set's is revoked by id).
  auto bulk = client.post(
      "/api/v1/certificates",
      certificate_body("bulk-" + tag, tag + ".bulk.example.com", {}, ids["renewal_policy"]));
  BOOST_REQUIRE_MESSAGE(bulk.status == 201, bulk.describe());
  ids["bulk_certificate"] = str(bulk.json(), "id");
  return ids;
}

std::string json_object_of(const std::map<std::string, std::string>& m) {
  std::string s = "{";
  for (const auto& [k, v] : m) s += (s.size() > 1 ? "," : "") + ("\"" + k + "\":\"" + v + "\"");
  return s + "}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spec_sweep)

BOOST_AUTO_TEST_CASE(every_reference_operation_answers_as_the_spec_says) {
  const char* spec = std::getenv("CERTCTL_OPENAPI_SPEC");
  BOOST_REQUIRE_MESSAGE(spec != nullptr, "CERTCTL_OPENAPI_SPEC is not set (CMake sets it)");
  temp_dir dir;
  // The enrollment protocols at their legacy roots (/.well-known/est/, /scep), so their
  // operations exist: EST without an enrollment password, as the reference's EST operations are
  // (no security requirement), SCEP with a challenge; the sweep's bodies are no valid CSRs, so
  // both refuse them as the protocols specify.
  server_options options;
  options.extra_env = {{"CERTCTL_EST_ENABLED", "true"},
                       {"CERTCTL_SCEP_ENABLED", "true"},
                       {"CERTCTL_SCEP_ISSUER_ID", "iss-local"},
                       {"CERTCTL_SCEP_CHALLENGE_PASSWORD", "sweep-challenge-password"},
                       // A channel, so event notifications run and a record exists to name;
                       // the guard refuses its loopback URL, so nothing is delivered anywhere.
                       {"CERTCTL_WEBHOOK_URL", "https://127.0.0.1:9/certctl-sweep"},
                       {"CERTCTL_NOTIFICATION_INTERVAL", "1s"}};
  server_process server(dir.path + "/data", options);
  api client(server);
  api requester(server, operator_key);
  auto live = seed(client, requester, "live");
  auto doomed = seed(client, requester, "doomed");
  live["audit_event"] = first(client, "/api/v1/audit?per_page=1", "id");
  // A revocation becomes a notification (the event follower ticks every second).
  auto noted =
      client.post("/api/v1/certificates",
                  certificate_body("noted", "noted.sweep.example.com", {}, live["renewal_policy"]));
  BOOST_REQUIRE_MESSAGE(noted.status == 201, noted.describe());
  wait_for_certificate(client, str(noted.json(), "id"), {"Active"});
  auto revoked = client.post("/api/v1/certificates/" + str(noted.json(), "id") + "/revoke",
                             R"({"reason":"superseded"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  for (int i = 0; i < 150 && live["notification"].empty(); ++i) {
    auto list = client.get("/api/v1/notifications");
    auto doc = list.json();
    if (doc.HasMember("data") && doc["data"].IsArray() && !doc["data"].Empty())
      live["notification"] = str(doc["data"][0], "id");
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_REQUIRE_MESSAGE(!live["notification"].empty(), "no notification was queued");

  const std::string fixture = dir.path + "/sweep.json";
  std::ofstream(fixture) << R"({"base_url":"https://127.0.0.1:)" << server.port()
                         << R"(","admin_key":")" << admin_key << R"(","ids":)"
                         << json_object_of(live) << R"(,"doomed":)" << json_object_of(doomed)
                         << "}";
  const std::string here = CERTCTL_SWEEP_DIR;
  auto r = run_command("python3 " + shell_quote(here + "/spec_sweep.py") + " " + shell_quote(spec) +
                       " " + shell_quote(fixture) + " " +
                       shell_quote(here + "/spec_sweep_gaps.txt") + " 2>&1");
  BOOST_TEST_MESSAGE(r.out);
  if (r.exit_code == 77) return;  // no spec or PyYAML on a developer machine (CI: exit 1)
  BOOST_TEST(r.exit_code == 0, r.out);
}

BOOST_AUTO_TEST_SUITE_END()
