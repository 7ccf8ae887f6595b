// Targets, deployment jobs, agent work and job status, and the discovery triage routes, over an
// in-process runtime with the fake target connector registered (issue 12). The agent's side of
// the wire is played by requests here; tests/integration/agent_daemon_test runs the real agent.
#include <boost/test/unit_test.hpp>

#include "actors/workflows/deployment.hpp"
#include "tests/gateways/rest/agent_fixture.hpp"

using namespace certctl;
using certctl::test::deployment_fixture;
using certctl::test::rest_fixture;

BOOST_AUTO_TEST_SUITE(deployment_routes)

BOOST_FIXTURE_TEST_CASE(a_target_config_is_checked_against_its_schema_and_its_secret_sealed,
                        deployment_fixture) {
  agent("a-1");
  auto created = send("POST", "/api/v1/targets",
                      R"({"id":"tgt-1","name":"web","type":"FakeTarget","agent_id":"a-1",)"
                      R"("config":{"path":"/srv/tls","password":"s3cret-pw"}})");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  BOOST_TEST(created.body.find("s3cret-pw") == std::string::npos);
  BOOST_TEST(created.body.find("********") != std::string::npos);
  auto shown = read_after(created, "/api/v1/targets/tgt-1");
  BOOST_TEST(shown.status == 200);
  BOOST_TEST(shown.body.find("s3cret-pw") == std::string::npos, shown.body);
  BOOST_TEST(read("/api/v1/targets").body.find("\"tgt-1\"") != std::string::npos);
  BOOST_TEST(log_text().find("s3cret-pw") == std::string::npos);

  auto unknown_type =
      send("POST", "/api/v1/targets", R"({"name":"x","type":"Nope","agent_id":"a-1","config":{}})");
  BOOST_TEST(unknown_type.status == 400);
  auto bad_config = send("POST", "/api/v1/targets",
                         R"({"name":"x","type":"FakeTarget","agent_id":"a-1","config":{}})");
  BOOST_TEST(bad_config.status == 400, bad_config.body);
  BOOST_TEST(bad_config.body.find("path") != std::string::npos, bad_config.body);
  auto no_agent = send("POST", "/api/v1/targets",
                       R"({"name":"x","type":"FakeTarget","agent_id":"ghost",)"
                       R"("config":{"path":"/p"}})");
  BOOST_TEST(no_agent.status == 400, no_agent.body);
  BOOST_TEST(no_agent.body.find("ghost") != std::string::npos);
  auto missing_agent =
      send("POST", "/api/v1/targets", R"({"name":"x","type":"FakeTarget","config":{"path":"/p"}})");
  BOOST_TEST(missing_agent.status == 400, missing_agent.body);
}

BOOST_FIXTURE_TEST_CASE(a_deployment_job_reaches_the_agent_with_its_secret_and_takes_its_status,
                        deployment_fixture) {
  agent("a-1");
  agent("a-2");
  target("tgt-1", "a-1");
  create_certificate("mc-1");
  issue("mc-1");
  auto deploy = send("POST", "/api/v1/certificates/mc-1/deploy", R"({"target_id":"tgt-1"})");
  BOOST_REQUIRE_MESSAGE(deploy.status == 202, deploy.body);
  const auto job_ids = json(deploy).str_array("job_ids");
  BOOST_REQUIRE_EQUAL(job_ids.size(), 1u);
  const std::string job = job_ids[0];

  // The agent sees the job with the target's type and its config, secret opened for it.
  auto item = work_item("a-1", job);
  BOOST_TEST(item.str("type") == "Deployment");
  BOOST_TEST(item.str("target_type") == "FakeTarget");
  BOOST_TEST(item.str("certificate_id") == "mc-1");
  auto config = events::json_object::parse(item.raw("target_config")).value();
  BOOST_TEST(config.str("password") == "s3cret-pw");
  // ... and only that agent.
  BOOST_TEST(read("/api/v1/agents/a-2/work").body.find(job) == std::string::npos);
  auto stranger = report("a-2", job, R"({"status":"Running"})");
  BOOST_TEST(stranger.status == 403, stranger.body);

  auto running = report("a-1", job, R"({"status":"Running"})");
  BOOST_REQUIRE_MESSAGE(running.status == 200, running.body);
  BOOST_TEST(json(running).str("status") == "Running");
  BOOST_TEST(read("/api/v1/agents/a-1/work").body.find(job) == std::string::npos);
  auto completed = report("a-1", job, R"({"status":"Completed","message":"deployed; verified"})");
  BOOST_REQUIRE_MESSAGE(completed.status == 200, completed.body);
  auto shown = json(read_after(completed, "/api/v1/jobs/" + job));
  BOOST_TEST(shown.str("status") == "Completed");
  BOOST_TEST(shown.str("message") == "deployed; verified");
  BOOST_TEST(shown.str("target_id") == "tgt-1");
  BOOST_TEST(shown.str("agent_id") == "a-1");
  auto again = report("a-1", job, R"({"status":"Failed","error":"late"})");
  BOOST_TEST(again.status == 409, again.body);
  BOOST_TEST(report("a-1", job, R"({"status":"Exploded"})").status == 400);

  auto listed = read("/api/v1/certificates/mc-1/deployments");
  BOOST_REQUIRE_MESSAGE(listed.status == 200, listed.body);
  BOOST_TEST(json(listed).int64("total") == 1);
  BOOST_TEST(listed.body.find("\"tgt-1\"") != std::string::npos);
  BOOST_TEST(listed.body.find("s3cret-pw") == std::string::npos);
  BOOST_TEST(log_text().find("s3cret-pw") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_failed_deployment_is_final_and_carries_the_agents_message,
                        deployment_fixture) {
  agent("a-1");
  target("tgt-1", "a-1");
  create_certificate("mc-1");
  issue("mc-1");
  auto deploy = send("POST", "/api/v1/certificates/mc-1/deploy", R"({"target_id":"tgt-1"})");
  BOOST_REQUIRE(deploy.status == 202);
  const std::string job = json(deploy).str_array("job_ids").at(0);
  // Straight from Pending to Failed: the report starts the job itself.
  auto failed = report("a-1", job, R"({"status":"Failed","error":"nginx -t: bad directive"})");
  BOOST_REQUIRE_MESSAGE(failed.status == 200, failed.body);
  auto shown = json(read_after(failed, "/api/v1/jobs/" + job));
  BOOST_TEST(shown.str("status") == "Failed");
  BOOST_TEST(shown.str("last_error") == "nginx -t: bad directive");
  BOOST_TEST(read("/api/v1/agents/a-1/work").body.find(job) == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_job_for_a_retired_agent_fails_at_once_with_a_clear_error,
                        deployment_fixture) {
  agent("a-9");
  target("tgt-9", "a-9");
  create_certificate("mc-9");
  issue("mc-9");
  BOOST_REQUIRE(send("DELETE", "/api/v1/agents/a-9").status == 200);
  auto deploy = send("POST", "/api/v1/certificates/mc-9/deploy", R"({"target_id":"tgt-9"})");
  BOOST_TEST(deploy.status == 400, deploy.body);
  BOOST_TEST(deploy.body.find("agent a-9 is retired") != std::string::npos, deploy.body);
  auto jobs = json(read("/api/v1/jobs?type=Deployment&certificate_id=mc-9"));
  auto data = jobs.object_array("data");
  BOOST_REQUIRE_EQUAL(data.size(), 1u);
  BOOST_TEST(data[0].str("status") == "Failed");
  BOOST_TEST(data[0].str("last_error") == "agent a-9 is retired");
  // The retired agent itself is told to stop.
  BOOST_TEST(send("GET", "/api/v1/agents/a-9/work").status == 410);
  BOOST_TEST(send("POST", "/api/v1/agents/a-9/heartbeat", "{}").status == 410);
  BOOST_TEST(send("GET", "/api/v1/agents/nobody/work").status == 404);
  // An unknown target is a 400 naming it; no job.
  auto unknown = send("POST", "/api/v1/certificates/mc-9/deploy", R"({"target_id":"tgt-x"})");
  BOOST_TEST(unknown.status == 400);
  BOOST_TEST(unknown.body.find("tgt-x") != std::string::npos);
  // A certificate without targets needs one named.
  BOOST_TEST(send("POST", "/api/v1/certificates/mc-9/deploy", "{}").status == 400);
}

BOOST_FIXTURE_TEST_CASE(a_target_test_is_a_validation_job_whose_result_comes_from_the_agent,
                        deployment_fixture) {
  agent("a-1");
  target("tgt-1", "a-1");
  auto test = send("POST", "/api/v1/targets/tgt-1/test");
  BOOST_REQUIRE_MESSAGE(test.status == 200, test.body);
  BOOST_TEST(json(test).str("status") == "pending");
  const std::string job = json(test).str("job_id");
  auto item = work_item("a-1", job);
  BOOST_TEST(item.str("type") == "Validation");
  BOOST_TEST(item.str("certificate_id").empty());
  auto done = report("a-1", job, R"({"status":"Completed","message":"target tgt-1 validated"})");
  BOOST_REQUIRE(done.status == 200);
  BOOST_TEST(json(read_after(done, "/api/v1/jobs/" + job)).str("status") == "Completed");
  BOOST_TEST(send("POST", "/api/v1/targets/tgt-none/test").status == 404);
}

BOOST_FIXTURE_TEST_CASE(every_issued_version_is_deployed_once_to_each_target_of_the_certificate,
                        deployment_fixture) {
  agent("a-1");
  target("tgt-1", "a-1");
  target("tgt-2", "a-1");
  auto created = send("POST", "/api/v1/certificates",
                      R"({"id":"mc-5","name":"mc-5","common_name":"mc5.example.com",)"
                      R"("renewal_policy_id":"rp-1","issuer_id":"iss-local","owner_id":"o-1",)"
                      R"("team_id":"t-1","target_ids":["tgt-1","tgt-2"]})");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  auto first = actors::deploy_after_issuance(runtime, "mc-5", "cv-1", "corr-1");
  BOOST_REQUIRE_EQUAL(first.size(), 2u);
  for (const auto& o : first) BOOST_TEST(o.queued, o.error);
  // Deterministic, and placed with the certificate (docs/cluster.md "Affinity").
  BOOST_TEST(first[0].job_id == "job-dep-cv-1-tgt-1__certificate-mc-5");
  // The same trigger again (a retried hand-off) adds no job.
  auto again = actors::deploy_after_issuance(runtime, "mc-5", "cv-1", "corr-1");
  BOOST_REQUIRE_EQUAL(again.size(), 2u);
  auto jobs = json(read("/api/v1/jobs?type=Deployment&certificate_id=mc-5"));
  BOOST_TEST(jobs.int64("total") == 2);
  // A new version deploys again.
  actors::deploy_after_issuance(runtime, "mc-5", "cv-2", "corr-2");
  BOOST_TEST(json(read("/api/v1/jobs?type=Deployment&certificate_id=mc-5")).int64("total") == 4);
}

BOOST_FIXTURE_TEST_CASE(a_job_for_an_offline_agent_waits_for_it_and_says_so, deployment_fixture) {
  agent("a-off");
  target("tgt-off", "a-off");
  domain::command off;
  off.name = "agent.mark_offline";
  off.entity_id = "a-off";
  off.principal = "system:agent-health";
  BOOST_REQUIRE(runtime.execute("agent", off).ok());
  auto test = send("POST", "/api/v1/targets/tgt-off/test");
  BOOST_REQUIRE(test.status == 200);
  BOOST_TEST(json(test).str("status") == "failed");
  BOOST_TEST(json(test).str("message").find("agent a-off is offline") != std::string::npos,
             test.body);
  // The job waits: when the agent comes back, it finds it.
  BOOST_TEST(work_item("a-off", json(test).str("job_id")).str("type") == "Validation");
}

BOOST_FIXTURE_TEST_CASE(a_csr_work_item_names_the_key_its_profile_asks_for, deployment_fixture) {
  agent("a-1");
  auto rsa = send("POST", "/api/v1/profiles",
                  R"({"id":"prof-rsa","name":"rsa only",)"
                  R"("allowed_key_algorithms":[{"algorithm":"RSA","min_size":3072}]})");
  BOOST_REQUIRE_MESSAGE(rsa.status == 201, rsa.body);
  auto created = send("POST", "/api/v1/certificates",
                      R"({"id":"mc-rsa","name":"mc-rsa","common_name":"rsa.example.com",)"
                      R"("renewal_policy_id":"rp-1","issuer_id":"iss-local","owner_id":"o-1",)"
                      R"("team_id":"t-1","certificate_profile_id":"prof-rsa"})");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  create_certificate("mc-ec");  // no profile: the agent's default
  auto work = json(read("/api/v1/agents/a-1/work")).object_array("jobs");
  BOOST_REQUIRE_EQUAL(work.size(), 2u);
  for (const auto& j : work) {
    BOOST_TEST(j.str("status") == "AwaitingCSR");
    BOOST_TEST(j.str("key_algorithm") == (j.str("certificate_id") == "mc-rsa" ? "RSA-3072" : ""),
               j.dump());
  }
}

BOOST_AUTO_TEST_SUITE_END()
