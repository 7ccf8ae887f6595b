// Least privilege end to end: API keys managed through the API (shown once, listed without
// secrets, revoked at once, expired keys refused), keys scoped to teams, the auditor role, and
// agent keys bound to their own agent.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

/// Creates a managed key; returns (id, key).
std::pair<std::string, std::string> make_key(api& admin, const std::string& body) {
  auto r = admin.post("/api/v1/api-keys", body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  auto doc = r.json();
  BOOST_TEST(!doc.HasMember("hash"));
  BOOST_TEST(!doc.HasMember("salt"));
  BOOST_TEST(r.header("Cache-Control") == "no-store");
  return {str(doc, "id"), str(doc, "key")};
}

constexpr const char* agent_a_key = "it-agent-a-key-0123456789abcdef";
constexpr const char* unbound_agent_key = "it-agent-unbound-key-0123456789ab";

/// True once the audit trail holds an auth.denied of `actor` with reason outside_binding
/// (auth failures reach the projection asynchronously, so this polls).
bool binding_denial_audited(api& admin, const std::string& actor) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    auto r = admin.get("/api/v1/audit?per_page=500&action=auth.denied");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    for (const auto& e : doc["data"].GetArray()) {
      if (str(e, "actor") == actor && str(e["details"], "reason") == "outside_binding") return true;
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rbac)

BOOST_AUTO_TEST_CASE(an_agent_key_acts_only_for_its_own_agent) {
  temp_dir dir;
  server_options o;
  o.keygen_mode = "agent";
  o.named_keys = std::string(default_named_keys) + ",edge-a:" + agent_a_key +
                 ":agent:agent-a,edge-loose:" + unbound_agent_key + ":agent";
  server_process server(dir.path + "/data", o);
  api admin(server);
  for (const char* id : {"agent-a", "agent-b"}) {
    auto r = admin.post("/api/v1/agents",
                        std::string(R"({"id":")") + id + R"(","name":")" + id + R"("})");
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  }
  // A managed agent key names its agent; no other key names one.
  BOOST_TEST(admin.post("/api/v1/api-keys", R"({"name":"edge-x","role":"agent"})").status == 400);
  BOOST_TEST(admin.post("/api/v1/api-keys", R"({"name":"v2","role":"viewer","agent_id":"agent-a"})")
                 .status == 400);
  const auto [b_id, b_key] =
      make_key(admin, R"({"name":"edge-b","role":"agent","agent_id":"agent-b"})");
  auto cert =
      admin.post("/api/v1/certificates", certificate_body("bound", "bound.example.test", {}));
  BOOST_REQUIRE_MESSAGE(cert.status == 201, cert.describe());

  api a(server, agent_a_key);
  api b(server, b_key);
  // Their own agent: admitted.
  auto own = a.get("/api/v1/agents/agent-a/work");
  BOOST_TEST(own.status == 200, own.describe());
  BOOST_TEST(a.post("/api/v1/agents/agent-a/heartbeat", "{}").status / 100 == 2);
  BOOST_TEST(b.get("/api/v1/agents/agent-b/work").status == 200);
  // Another agent's work, status, discoveries, CSR and certificates: refused.
  auto theirs = a.get("/api/v1/agents/agent-b/work");
  BOOST_TEST(theirs.status == 403, theirs.describe());
  BOOST_TEST(str(theirs.json(), "error").find("bound to agent agent-a") != std::string::npos,
             theirs.body);
  BOOST_TEST(a.post("/api/v1/agents/agent-b/heartbeat", "{}").status == 403);
  BOOST_TEST(a.post("/api/v1/agents/agent-b/discoveries", R"({"certificates":[]})").status == 403);
  BOOST_TEST(a.post("/api/v1/agents/agent-b/jobs/j-1/status", R"({"status":"Completed"})").status ==
             403);
  BOOST_TEST(a.post("/api/v1/agents/agent-b/csr", "{}").status == 403);
  BOOST_TEST(a.get("/api/v1/agents/agent-b/certificates/" + str(cert.json(), "id")).status == 403);
  BOOST_TEST(b.get("/api/v1/agents/agent-a/work").status == 403);
  // A job not assigned to the key's agent (this one is offered to any agent's CSR) is not
  // readable through the jobs API; an id that names no agent is 404, as for any caller.
  auto jobs = admin.get("/api/v1/jobs?certificate_id=" + str(cert.json(), "id"));
  BOOST_REQUIRE_MESSAGE(jobs.status == 200 && !jobs.json()["data"].GetArray().Empty(),
                        jobs.describe());
  const std::string job = str(jobs.json()["data"][0], "id");
  BOOST_TEST(a.get("/api/v1/jobs/" + job).status == 403);
  BOOST_TEST(a.get("/api/v1/agents/agent-nobody/work").status == 404);
  // An agent key configured without an agent id may act for no agent.
  api loose(server, unbound_agent_key);
  BOOST_TEST(loose.get("/api/v1/agents/agent-a/work").status == 403);
  // Still nothing beyond the agent operations.
  BOOST_TEST(a.get("/api/v1/certificates").status == 403);

  BOOST_TEST(binding_denial_audited(admin, "apikey:edge-a"));
  BOOST_TEST(binding_denial_audited(admin, "apikey:edge-b"));
}

BOOST_AUTO_TEST_CASE(managed_keys_work_until_revoked_and_never_show_their_secret_again) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  const auto [id, key] = make_key(admin, R"({"name":"ci-bot","role":"viewer"})");
  BOOST_TEST(key.rfind("cck_", 0) == 0);
  BOOST_TEST(key.size() == 4u + 64u);

  api bot(server, key);
  BOOST_TEST(bot.get("/api/v1/certificates").status == 200);
  BOOST_TEST(bot.post("/api/v1/teams", R"({"name":"x"})").status == 403);  // viewer

  auto listed = admin.get("/api/v1/api-keys");
  BOOST_REQUIRE_MESSAGE(listed.status == 200, listed.describe());
  BOOST_TEST(listed.body.find(key) == std::string::npos);
  BOOST_TEST(listed.body.find("\"hash\"") == std::string::npos);
  BOOST_TEST(listed.body.find("ci-bot") != std::string::npos);
  BOOST_TEST(admin.get("/api/v1/api-keys/" + id).status == 200);
  BOOST_TEST(api(server, operator_key).get("/api/v1/api-keys").status == 403);

  // Names are unique, also against the configured keys; the server makes the secret.
  BOOST_TEST(admin.post("/api/v1/api-keys", R"({"name":"ci-bot","role":"viewer"})").status == 409);
  BOOST_TEST(admin.post("/api/v1/api-keys", R"({"name":"it-admin","role":"viewer"})").status ==
             409);
  BOOST_TEST(admin.post("/api/v1/api-keys", R"({"name":"x","role":"root"})").status == 400);
  BOOST_TEST(admin.post("/api/v1/api-keys", R"({"name":"x","role":"viewer","hash":"ab"})").status ==
             400);
  BOOST_TEST(
      admin.post("/api/v1/api-keys", R"({"name":"x","role":"viewer","scopes":{"colour":["red"]}})")
          .status == 400);

  auto revoked = admin.del("/api/v1/api-keys/" + id);
  BOOST_REQUIRE_MESSAGE(revoked.status == 204, revoked.describe());
  BOOST_TEST(bot.get("/api/v1/certificates").status == 401);  // at once, on this node

  const auto expired =
      make_key(admin, R"({"name":"old","role":"viewer","expires_at":"2020-01-01T00:00:00Z"})");
  BOOST_TEST(api(server, expired.second).get("/api/v1/certificates").status == 401);
}

BOOST_AUTO_TEST_CASE(a_scoped_key_acts_only_inside_its_teams) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  const auto [id, key] =
      make_key(admin, R"({"name":"team-a-ci","role":"operator","scopes":{"team_ids":["team-a"]}})");
  api scoped(server, key);
  auto body_for = [](const std::string& name, const std::string& team) {
    auto b = certificate_body(name, name + ".example.com", {});
    const std::string from = R"("team_id":"team-it")";
    b.replace(b.find(from), from.size(), R"("team_id":")" + team + "\"");
    return b;
  };
  auto outside = scoped.post("/api/v1/certificates", body_for("b", "team-b"));
  BOOST_TEST(outside.status == 403, outside.describe());
  BOOST_TEST(str(outside.json(), "error").find("team_id 'team-b'") != std::string::npos);
  auto inside = scoped.post("/api/v1/certificates", body_for("a", "team-a"));
  BOOST_REQUIRE_MESSAGE(inside.status == 201, inside.describe());
  const std::string mine = str(inside.json(), "id");
  wait_for_certificate(admin, mine, {"Active"});

  auto theirs = admin.post("/api/v1/certificates", body_for("c", "team-b"));
  BOOST_REQUIRE_MESSAGE(theirs.status == 201, theirs.describe());
  const std::string other = str(theirs.json(), "id");
  wait_for_certificate(admin, other, {"Active"});
  BOOST_TEST(scoped.post("/api/v1/certificates/" + other + "/renew", "{}").status == 403);
  BOOST_TEST(scoped.post("/api/v1/certificates/" + other + "/revoke", "{}").status == 403);
  BOOST_TEST(scoped.del("/api/v1/certificates/" + other).status == 403);
  BOOST_TEST(scoped.put("/api/v1/certificates/" + mine, R"({"team_id":"team-b"})").status ==
             403);  // no moving a certificate out of scope
  BOOST_TEST(
      scoped.post("/api/v1/certificates/bulk-renew", R"({"certificate_ids":[")" + mine + "\"]}")
          .status == 403);
  auto renew = scoped.post("/api/v1/certificates/" + mine + "/renew", "{}");
  BOOST_TEST(renew.status == 202, renew.describe());
}

BOOST_AUTO_TEST_CASE(the_auditor_reads_the_audit_trail_and_nothing_else) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  const auto [id, key] = make_key(admin, R"({"name":"auditor-1","role":"auditor"})");
  api auditor(server, key);
  BOOST_TEST(auditor.get("/api/v1/audit").status == 200);
  BOOST_TEST(auditor.get("/api/v1/audit/verify").status == 200);
  BOOST_TEST(auditor.get("/api/v1/events").status == 200);
  BOOST_TEST(auditor.get("/api/v1/certificates").status == 403);
  BOOST_TEST(auditor.get("/api/v1/issuers").status == 403);
  BOOST_TEST(auditor.post("/api/v1/teams", R"({"name":"x"})").status == 403);
}

BOOST_AUTO_TEST_SUITE_END()
