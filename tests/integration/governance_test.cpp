// Governance end to end against the built server: policy rules block or record at creation,
// block renewals the same way, list their violations; agent groups gather agents by their
// match rules. Every JSON answer is captured for spec_check.py.
#include <boost/test/unit_test.hpp>
#include <string>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

std::string create(api& client, const std::string& path, const std::string& body) {
  auto r = client.post(path, body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return str(r.json(), "id");
}

std::int64_t total_of(const api_response& r) {
  auto doc = r.json();
  return doc.HasMember("total") && doc["total"].IsInt64() ? doc["total"].GetInt64() : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(governance)

BOOST_AUTO_TEST_CASE(blocking_rules_refuse_certificates_and_warnings_are_recorded) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);
  const std::string rp =
      create(client, "/api/v1/renewal-policies", R"({"name":"gov","renewal_window_days":30})");
  const std::string domains = create(
      client, "/api/v1/policies",
      R"({"name":"corp domains","type":"AllowedDomains","severity":"Error","config":{"domains":["corp.test"]}})");
  auto env_rule = client.post(
      "/api/v1/policies",
      R"({"name":"known environments","type":"AllowedEnvironments","config":{"environments":["production"]}})");
  BOOST_REQUIRE_MESSAGE(env_rule.status == 201, env_rule.describe());
  const std::string envs = str(env_rule.json(), "id");
  auto shown = client.get("/api/v1/policies/" + envs, env_rule.position());
  BOOST_REQUIRE_MESSAGE(shown.status == 200, shown.describe());
  BOOST_TEST(str(shown.json(), "severity") == "Warning");  // the reference's default

  // Rules are read from the read model, at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto refused = client.post("/api/v1/certificates",
                             certificate_body("evil", "www.evil.test", {"www.evil.test"}, rp));
  BOOST_REQUIRE_MESSAGE(refused.status == 400, refused.describe());
  BOOST_TEST(
      str(refused.json(), "error").find("policy corp domains (" + domains) != std::string::npos,
      refused.body);
  BOOST_TEST(str(refused.json(), "error").find("www.evil.test") != std::string::npos);

  // Allowed names pass; the environment rule (Warning) only records.
  auto ok = client.post("/api/v1/certificates",
                        certificate_body("good", "api.corp.test", {"api.corp.test"}, rp));
  BOOST_REQUIRE_MESSAGE(ok.status == 201, ok.describe());
  const std::string cert = str(ok.json(), "id");
  wait_for_certificate(client, cert, {"Active"});

  auto violations = client.get("/api/v1/policies/" + envs + "/violations", ok.position());
  BOOST_REQUIRE_MESSAGE(violations.status == 200, violations.describe());
  auto doc = violations.json();
  BOOST_REQUIRE_MESSAGE(total_of(violations) == 1, violations.body);  // once: creation + issuance
  BOOST_TEST(str(doc["data"][0], "certificate_id") == cert);
  BOOST_TEST(str(doc["data"][0], "severity") == "Warning");
  BOOST_TEST(str(doc["data"][0], "message") == "environment test is not allowed");
  auto blocked = client.get("/api/v1/policies/" + domains + "/violations");
  BOOST_TEST(total_of(blocked) == 1, blocked.body);  // the refused request is on record too
  BOOST_TEST(blocked.body.find("www.evil.test") != std::string::npos);

  // A rule added later blocks the renewal of a certificate that predates it.
  create(
      client, "/api/v1/policies",
      R"({"name":"acme only","type":"AllowedIssuers","severity":"Critical","config":{"issuer_ids":["iss-acme"]}})");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto renew = client.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renew.status == 202 || renew.status == 200, renew.describe());
  auto jobs = client.get("/api/v1/jobs?certificate_id=" + cert + "&status=Failed");
  for (int i = 0; i < 100 && total_of(jobs) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    jobs = client.get("/api/v1/jobs?certificate_id=" + cert + "&status=Failed");
  }
  BOOST_REQUIRE_MESSAGE(total_of(jobs) == 1, jobs.describe());
  BOOST_TEST(jobs.body.find("policy acme only") != std::string::npos, jobs.body);
}

BOOST_AUTO_TEST_CASE(a_profile_certifies_only_the_names_its_patterns_allow) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);
  const std::string profile = create(
      client, "/api/v1/profiles", R"({"name":"corp web","required_san_patterns":["*.corp.test"]})");
  auto with_profile = [&](const std::string& name, const std::string& cn) {
    auto body = certificate_body(name, cn, {});
    body.insert(body.size() - 1, R"(,"certificate_profile_id":")" + profile + "\"");
    auto r = client.post("/api/v1/certificates", body);
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
    return str(r.json(), "id");
  };
  wait_for_certificate(client, with_profile("ok", "api.corp.test"), {"Active"});
  const std::string refused = with_profile("bad", "api.other.test");
  wait_for_certificate(client, refused, {"Failed"});
  auto jobs = client.get("/api/v1/jobs?certificate_id=" + refused);
  BOOST_TEST(jobs.body.find("matches none of the profile's SAN patterns") != std::string::npos,
             jobs.body);
}

BOOST_AUTO_TEST_CASE(a_must_staple_profile_issues_certificates_with_the_tls_feature) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);
  const std::string profile =
      create(client, "/api/v1/profiles", R"({"name":"stapled","must_staple":true})");
  auto body = certificate_body("stapled", "stapled.example.com", {"stapled.example.com"});
  body.insert(body.size() - 1, R"(,"certificate_profile_id":")" + profile + "\"");
  auto created = client.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string cert = str(created.json(), "id");
  wait_for_certificate(client, cert, {"Active"});
  auto pem = client.get("/api/v1/certificates/" + cert + "/export/pem");
  BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
  write_file(dir.path + "/leaf.pem", str(pem.json(), "cert_pem"));
  auto text = run_command("openssl x509 -noout -text -in " + shell_quote(dir.path + "/leaf.pem"));
  BOOST_REQUIRE_EQUAL(text.exit_code, 0);
  BOOST_TEST(text.out.find("TLS Feature") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("status_request") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(policy_documents_are_validated_at_the_edge) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);
  for (
      const char* body :
      {R"({"name":"x","type":"Nonsense","config":{}})",
       R"({"name":"x","type":"AllowedDomains","config":{"domains":[]}})",
       R"({"name":"x","type":"AllowedDomains","severity":"Fatal","config":{"domains":["a.test"]}})",
       R"({"name":"x","type":"CertificateLifetime","config":{"max_days":"long"}})",
       R"({"type":"AllowedIssuers","config":{"issuer_ids":["a"]}})"}) {
    auto r = client.post("/api/v1/policies", body);
    BOOST_TEST(r.status == 400, body << " -> " << r.describe());
  }
  const std::string id =
      create(client, "/api/v1/policies",
             R"({"name":"life","type":"CertificateLifetime","config":{"max_days":397}})");
  auto bad_update = client.put("/api/v1/policies/" + id, R"({"config":{"max_days":0}})");
  BOOST_TEST(bad_update.status == 400, bad_update.describe());
  auto update = client.put("/api/v1/policies/" + id, R"({"enabled":false})");
  BOOST_REQUIRE_MESSAGE(update.status == 200, update.describe());
  BOOST_TEST(!update.json()["enabled"].GetBool());
  api viewer(server, viewer_key);
  BOOST_TEST(viewer
                 .post("/api/v1/policies",
                       R"({"name":"v","type":"AllowedIssuers","config":{"issuer_ids":["a"]}})")
                 .status == 403);
  auto list = viewer.get("/api/v1/policies", update.position());
  BOOST_TEST(total_of(list) == 1, list.describe());
  auto deleted = client.del("/api/v1/policies/" + id);
  BOOST_TEST(deleted.status == 204);
  BOOST_TEST(client.get("/api/v1/policies/" + id, deleted.position()).status == 404);
}

BOOST_AUTO_TEST_CASE(agent_groups_hold_the_agents_their_rules_match) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);
  auto linux_agent = client.post(
      "/api/v1/agents",
      R"({"name":"web-1","os":"linux","architecture":"amd64","ip_address":"10.1.2.3","version":"1.4.2"})");
  BOOST_REQUIRE_MESSAGE(linux_agent.status == 201, linux_agent.describe());
  create(
      client, "/api/v1/agents",
      R"({"name":"win-1","os":"windows","architecture":"amd64","ip_address":"10.9.0.1","version":"1.4.0"})");
  create(
      client, "/api/v1/agents",
      R"({"name":"web-2","os":"Linux","architecture":"arm64","ip_address":"10.1.9.9","version":"2.0.0"})");
  auto group = client.post(
      "/api/v1/agent-groups",
      R"({"name":"linux web","match_os":"LINUX","match_ip_cidr":"10.1.0.0/16","match_version":"1.*"})");
  BOOST_REQUIRE_MESSAGE(group.status == 201, group.describe());
  auto members =
      client.get("/api/v1/agent-groups/" + str(group.json(), "id") + "/members", group.position());
  BOOST_REQUIRE_MESSAGE(members.status == 200, members.describe());
  BOOST_REQUIRE_EQUAL(total_of(members), 1);
  BOOST_TEST(str(members.json()["data"][0], "name") == "web-1");

  auto everyone = client.post("/api/v1/agent-groups", R"({"name":"all"})");
  auto all = client.get("/api/v1/agent-groups/" + str(everyone.json(), "id") + "/members",
                        everyone.position());
  BOOST_TEST(total_of(all) == 3, all.describe());

  auto bad =
      client.post("/api/v1/agent-groups", R"({"name":"typo","match_ip_cidr":"10.1.0.1/16"})");
  BOOST_TEST(bad.status == 400, bad.describe());
  BOOST_TEST(str(bad.json(), "error").find("match_ip_cidr") != std::string::npos, bad.body);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(approvals)

namespace {

/// A certificate under a profile that requires approval, created by the operator key; returns
/// (certificate id, job id).
std::pair<std::string, std::string> request_issuance(api& requester, api& admin,
                                                     const std::string& name) {
  auto profile = admin.post("/api/v1/profiles",
                            R"({"name":"guarded )" + name + R"(","requires_approval":true})");
  BOOST_REQUIRE_MESSAGE(profile.status == 201, profile.describe());
  auto body = certificate_body(name, name + ".corp.test", {}, "rp-default");
  body.insert(body.size() - 1, R"(,"certificate_profile_id":")" + str(profile.json(), "id") + "\"");
  auto created = requester.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string cert = str(created.json(), "id");
  auto jobs = admin.get("/api/v1/jobs?certificate_id=" + cert, created.position());
  BOOST_REQUIRE_MESSAGE(total_of(jobs) == 1, jobs.describe());
  auto job = jobs.json();
  BOOST_TEST(str(job["data"][0], "status") == "AwaitingApproval");
  return {cert, str(job["data"][0], "id")};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_second_person_approves_and_the_certificate_is_issued) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  api requester(server, operator_key);
  const auto [cert, job] = request_issuance(requester, admin, "guarded");

  auto pending = admin.get("/api/v1/approvals?state=pending&certificate_id=" + cert);
  BOOST_REQUIRE_MESSAGE(total_of(pending) == 1, pending.describe());
  auto request = pending.json();
  const std::string approval = str(request["data"][0], "id");
  BOOST_TEST(str(request["data"][0], "job_id") == job);
  BOOST_TEST(str(request["data"][0], "requested_by") == "apikey:it-operator");
  BOOST_TEST(admin.get("/api/v1/approvals/" + approval).status == 200);

  auto own = requester.post("/api/v1/approvals/" + approval + "/approve", "{}");
  BOOST_TEST(own.status == 403, own.describe());  // two-person rule
  api viewer(server, viewer_key);
  BOOST_TEST(viewer.post("/api/v1/approvals/" + approval + "/approve", "{}").status == 403);

  auto approved =
      admin.post("/api/v1/approvals/" + approval + "/approve", R"({"note":"change 4711"})");
  BOOST_REQUIRE_MESSAGE(approved.status == 200, approved.describe());
  BOOST_TEST(str(approved.json(), "action") == "approved");
  BOOST_TEST(str(approved.json(), "decided_by") == "apikey:it-admin");
  wait_for_certificate(admin, cert, {"Active"});
  auto decided = admin.get("/api/v1/approvals/" + approval, approved.position());
  BOOST_TEST(str(decided.json(), "state") == "approved");
  BOOST_TEST(str(decided.json(), "decision_note") == "change 4711");
  BOOST_TEST(admin.post("/api/v1/approvals/" + approval + "/approve", "").status == 409);
}

BOOST_AUTO_TEST_CASE(a_rejected_job_is_cancelled_and_the_certificate_says_why) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  api requester(server, operator_key);
  const auto [cert, job] = request_issuance(requester, admin, "refused");
  BOOST_TEST(admin.post("/api/v1/jobs/job-unknown/approve", "").status == 404);
  auto bad = admin.post("/api/v1/jobs/" + job + "/reject", R"({"reason":7})");
  BOOST_TEST(bad.status == 400, bad.describe());

  auto rejected = admin.post("/api/v1/jobs/" + job + "/reject", R"({"reason":"not needed"})");
  BOOST_REQUIRE_MESSAGE(rejected.status == 200, rejected.describe());
  BOOST_TEST(str(rejected.json(), "status") == "rejected");
  wait_for_certificate(admin, cert, {"Failed"});
  auto job_doc = admin.get("/api/v1/jobs/" + job, rejected.position());
  BOOST_TEST(str(job_doc.json(), "status") == "Cancelled");
  BOOST_TEST(str(job_doc.json(), "last_error") ==
             "approval rejected by apikey:it-admin: not needed");
  auto listed = admin.get("/api/v1/approvals?state=rejected");
  BOOST_TEST(total_of(listed) == 1, listed.describe());
  BOOST_TEST(admin.get("/api/v1/approvals?state=maybe").status == 400);
  BOOST_TEST(admin.post("/api/v1/jobs/" + job + "/approve", "").status == 409);
}

BOOST_AUTO_TEST_SUITE_END()
