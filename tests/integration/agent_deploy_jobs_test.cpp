// Deployment jobs end to end with the real agent and a real nginx (issue 12, LABEL peer):
// every step the agent runs is a job.step_recorded event shown on the job; a job whose agent
// never reports fails at the deployment timeout and a late report is refused (409); a
// certificate whose key the server generated is not deployed by an agent; an agent SIGKILLed
// in the middle of a deployment leaves a consistent certificate and key, the job resolves at
// the timeout, and the next deployment finishes. Ports 56790-56799.
#define BOOST_TEST_MODULE integration_agent_deploy_jobs
#define BOOST_TEST_NO_MAIN
#include <signal.h>
#include <sys/stat.h>

#include <iostream>
#include <thread>

#include <rapidjson/schema.h>

#include <boost/test/unit_test.hpp>

#include "tests/integration/agent_deploy_flow.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

int daemon_port() {
  return port_in(56790, 56799);
}

/// A server in agent keygen mode whose deployment timeout is `timeout`; the agent key is bound
/// to `agent_id`.
server_options with_timeout(const std::string& timeout, const std::string& agent_id) {
  auto o = agent_server_options(agent_id);
  o.extra_env["CERTCTL_DEPLOYMENT_TIMEOUT"] = timeout;
  return o;
}

void create_agent_and_target(api& client, const std::string& agent, const std::string& config) {
  auto a = client.post("/api/v1/agents", R"({"id":")" + agent + R"(","name":")" + agent + R"("})");
  BOOST_REQUIRE_MESSAGE(a.status == 201, a.describe());
  auto t = client.post("/api/v1/targets", R"({"id":"tgt-web","name":"web","type":"NGINX",)"
                                          R"("agent_id":")" +
                                              agent + R"(","config":)" + config + "}");
  BOOST_REQUIRE_MESSAGE(t.status == 201, t.describe());
}

std::string create_certificate(api& client, bool with_target) {
  auto created = client.post(
      "/api/v1/certificates",
      std::string(
          R"({"name":"web","common_name":"localhost","sans":["localhost"],"renewal_policy_id":"rp-default",)"
          R"("issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1","target_ids":)") +
          (with_target ? R"(["tgt-web"]})" : "[]}"));
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  return str(created.json(), "id");
}

/// The payloads of every `type` event validate against docs/events/schemas/<type>.json;
/// returns how many there were.
int check_payloads(api& client, const std::string& type) {
  const std::string text =
      read_file(std::string(CERTCTL_SOURCE_DIR) + "/docs/events/schemas/" + type + ".json");
  rapidjson::Document sd;
  sd.Parse(text.c_str());
  BOOST_REQUIRE(!sd.HasParseError());
  rapidjson::SchemaDocument schema(sd);
  auto r = client.get("/api/v1/events?limit=1000&type=" + type);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  int n = 0;
  for (const auto& e : r.json()["data"].GetArray()) {
    if (str(e, "type") != type) continue;
    rapidjson::SchemaValidator v(schema);
    BOOST_TEST(e["payload"].Accept(v), type << " payload does not fit its schema");
    ++n;
  }
  return n;
}

/// The names of the job's steps, in order, as "name:outcome".
std::vector<std::string> steps_of(const rapidjson::Value& job) {
  std::vector<std::string> out;
  if (!job.HasMember("steps")) return out;
  for (const auto& s : job["steps"].GetArray()) {
    BOOST_TEST(s["duration_ms"].IsInt64());
    out.push_back(str(s, "step") + ":" + str(s, "outcome"));
  }
  return out;
}

std::string output_of(const rapidjson::Value& job, const std::string& step) {
  for (const auto& s : job["steps"].GetArray())
    if (str(s, "step") == step) return str(s, "output");
  return "";
}

/// Whether the certificate file and the key file belong together.
bool pair_matches(const std::string& cert, const std::string& key) {
  auto a = run_command("openssl x509 -noout -pubkey -in " + shell_quote(cert));
  auto b = run_command("openssl pkey -pubout -in " + shell_quote(key));
  return a.exit_code == 0 && b.exit_code == 0 && !a.out.empty() && a.out == b.out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_step_of_a_deployment_is_a_job_event_shown_on_the_job) {
  temp_dir dir;
  nginx_daemon nginx(daemon_dir(dir.path), daemon_port());
  server_process server(dir.path + "/data", agent_server_options());
  api client(server);
  create_agent_and_target(client, "agent-web", nginx.target_config());
  agent_process proc(agent_flags(server, "agent-web", dir.path + "/keys"), dir.path + "/agent.log");
  const std::string cert = create_certificate(client, true);
  wait_for_certificate(client, cert, {"Active"});
  auto jobs = finished_deployments(client, cert, 1);
  const std::string job_id = str(jobs["data"][0], "id");
  auto job = wait_for_job(client, job_id, "Completed");
  // The agent's own check, the primitive's steps, the deploy call as a whole, the final check.
  const std::vector<std::string> expected = {
      "validate:succeeded", "write:succeeded",  "validate:succeeded", "reload:succeeded",
      "verify:succeeded",   "deploy:succeeded", "verify:succeeded"};
  BOOST_TEST(steps_of(job) == expected, proc.log());
  BOOST_TEST(job["step_count"].GetInt64() == 7);
  BOOST_TEST(output_of(job, "write").find(nginx.cert_file()) != std::string::npos);

  // A failing validate: its output is the step's, and the rollback is a step too.
  auto broken = client.put("/api/v1/targets/tgt-web",
                           R"({"config":)" +
                               nginx.target_config(nginx.validate_command_for("/nonexistent/"
                                                                              "missing.conf")) +
                               "}");
  BOOST_REQUIRE_MESSAGE(broken.status == 200, broken.describe());
  auto deploy =
      client.post("/api/v1/certificates/" + cert + "/deploy", R"({"target_id":"tgt-web"})");
  BOOST_REQUIRE_MESSAGE(deploy.status == 202, deploy.describe());
  const std::string failed_id = std::string(deploy.json()["job_ids"][0].GetString());
  auto failed = wait_for_job(client, failed_id, "Failed");
  const auto failed_steps = steps_of(failed);
  BOOST_REQUIRE(!failed_steps.empty());
  // The target's own validate() already runs the broken command: nothing is written.
  BOOST_TEST(failed_steps.front() == "validate:failed");
  BOOST_TEST(output_of(failed, "validate").find("missing.conf") != std::string::npos);
  BOOST_TEST(check_payloads(client, "job.step_recorded") >= 8);
  // No step carries key material.
  BOOST_TEST(whole_event_log(client).find("PRIVATE KEY") == std::string::npos);
  proc.signal(SIGTERM);
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(10)) == 0, proc.log());
}

BOOST_AUTO_TEST_CASE(
    a_job_whose_agent_never_reports_fails_at_the_timeout_and_late_reports_get_409) {
  temp_dir dir;
  server_process server(dir.path + "/data", with_timeout("2s", "agent-gone"));
  api client(server);
  api as_agent(server, agent_key);
  // A registered agent that never runs.
  create_agent_and_target(client, "agent-gone",
                          R"({"cert_path":"/tmp/none/c.pem","key_path":"/tmp/none/k.pem"})");
  const std::string cert = create_certificate(client, false);
  auto deploy =
      client.post("/api/v1/certificates/" + cert + "/deploy", R"({"target_id":"tgt-web"})");
  BOOST_REQUIRE_MESSAGE(deploy.status == 202, deploy.describe());
  const std::string never = std::string(deploy.json()["job_ids"][0].GetString());
  auto job = wait_for_job(client, never, "Failed", std::chrono::seconds(20));
  const std::string why = str(job, "last_error");
  BOOST_TEST(why.find("agent agent-gone did not report within 2 s") != std::string::npos, why);
  BOOST_TEST(why.find("never picked up") != std::string::npos, why);
  auto late = as_agent.post("/api/v1/agents/agent-gone/jobs/" + never + "/status",
                            R"({"status":"Completed","message":"deployed"})");
  BOOST_TEST(late.status == 409, late.describe());
  BOOST_TEST(late.body.find("already Failed") != std::string::npos, late.body);
  BOOST_TEST(str(client.get("/api/v1/jobs/" + never).json(), "last_error") == why);

  // Taken (Running), then silence: the same deadline, counted from the last report.
  auto again =
      client.post("/api/v1/certificates/" + cert + "/deploy", R"({"target_id":"tgt-web"})");
  BOOST_REQUIRE_MESSAGE(again.status == 202, again.describe());
  const std::string silent = std::string(again.json()["job_ids"][0].GetString());
  auto running = as_agent.post("/api/v1/agents/agent-gone/jobs/" + silent + "/status",
                               R"({"status":"Running"})");
  BOOST_REQUIRE_MESSAGE(running.status == 200, running.describe());
  job = wait_for_job(client, silent, "Failed", std::chrono::seconds(20));
  BOOST_TEST(str(job, "last_error").find("no report since it started") != std::string::npos);
  auto late_fail = as_agent.post("/api/v1/agents/agent-gone/jobs/" + silent + "/status",
                                 R"({"status":"Failed","error":"reload failed"})");
  BOOST_TEST(late_fail.status == 409, late_fail.describe());
  BOOST_TEST(check_payloads(client, "job.timed_out") == 2);
}

BOOST_AUTO_TEST_CASE(a_certificate_whose_key_the_server_generated_is_not_deployed_by_an_agent) {
  temp_dir dir;
  auto options = agent_server_options();
  options.keygen_mode = "server";
  server_process server(dir.path + "/data", options);
  api client(server);
  create_agent_and_target(client, "agent-web",
                          R"({"cert_path":"/tmp/none/c.pem","key_path":"/tmp/none/k.pem"})");
  const std::string cert = create_certificate(client, true);
  wait_for_certificate(client, cert, {"Active"});
  // The automatic deployment after issuance: created and failed at once, naming the rule.
  auto jobs = finished_deployments(client, cert, 1);
  BOOST_TEST(str(jobs["data"][0], "status") == "Failed");
  const std::string why = str(jobs["data"][0], "last_error");
  BOOST_TEST(why.find("server-generated key") != std::string::npos, why);
  BOOST_TEST(str(client.get("/api/v1/certificates/" + cert).json(), "keygen") == "server");
  auto deploy =
      client.post("/api/v1/certificates/" + cert + "/deploy", R"({"target_id":"tgt-web"})");
  BOOST_TEST(deploy.status == 400, deploy.describe());
  BOOST_TEST(deploy.body.find("never sends a private key to an agent") != std::string::npos,
             deploy.body);
  // Nothing was queued for the agent.
  api as_agent(server, agent_key);
  auto work = as_agent.get("/api/v1/agents/agent-web/work");
  BOOST_TEST(work.body.find("Deployment") == std::string::npos, work.body);
}

BOOST_AUTO_TEST_CASE(an_agent_killed_mid_deploy_leaves_a_consistent_pair_and_the_job_resolves) {
  temp_dir dir;
  nginx_daemon nginx(daemon_dir(dir.path), daemon_port());
  // A validate command that is slow once the new files are in place: the moment to kill.
  const std::string slow = nginx.prefix + "/slow-validate";
  tt::write_text(slow, "#!/bin/sh\ncmp -s '" + nginx.cert_file() + "' '" + nginx.prefix +
                           "/boot.pem' || sleep 8\nexit 0\n");
  ::chmod(slow.c_str(), 0755);
  tt::write_text(nginx.prefix + "/boot.pem", tt::slurp(nginx.cert_file()));
  server_process server(dir.path + "/data", with_timeout("4s", "agent-web"));
  api client(server);
  create_agent_and_target(client, "agent-web", nginx.target_config(slow));
  const std::string cert = create_certificate(client, true);
  {
    agent_process proc(agent_flags(server, "agent-web", dir.path + "/keys"),
                       dir.path + "/agent.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (tt::slurp(nginx.cert_file()) == tt::slurp(nginx.prefix + "/boot.pem")) {
      BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                            "the deployment never wrote: " << proc.log());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    proc.signal(SIGKILL);
    BOOST_TEST(proc.wait_exit(std::chrono::seconds(5)) == -2);
  }
  // Old or new, never a mix: the certificate file and the key file belong together, and the
  // daemon (never reloaded) still serves the boot certificate.
  BOOST_TEST(pair_matches(nginx.cert_file(), nginx.key_file()));
  BOOST_TEST(nginx.served() == nginx.boot.fingerprint);
  auto jobs = finished_deployments(client, cert, 1);  // the timeout resolves it
  BOOST_TEST(str(jobs["data"][0], "status") == "Failed");
  BOOST_TEST(str(jobs["data"][0], "last_error").find("did not report within 4 s") !=
             std::string::npos);

  // A new agent finishes the next deployment (the interrupted one is recovered first).
  auto fixed = client.put("/api/v1/targets/tgt-web", R"({"config":)" + nginx.target_config() + "}");
  BOOST_REQUIRE_MESSAGE(fixed.status == 200, fixed.describe());
  agent_process again(agent_flags(server, "agent-web", dir.path + "/keys"),
                      dir.path + "/agent2.log");
  auto deploy =
      client.post("/api/v1/certificates/" + cert + "/deploy", R"({"target_id":"tgt-web"})");
  BOOST_REQUIRE_MESSAGE(deploy.status == 202, deploy.describe());
  auto done =
      wait_for_job(client, std::string(deploy.json()["job_ids"][0].GetString()), "Completed");
  BOOST_TEST(pair_matches(nginx.cert_file(), nginx.key_file()));
  const std::string issued = current_fingerprint(client, cert);
  BOOST_TEST(nginx.eventually_served(issued) == issued, again.log());
  again.signal(SIGTERM);
  BOOST_TEST(again.wait_exit(std::chrono::seconds(10)) == 0);
}

int main(int argc, char* argv[]) {
  if (!tt::have_program("nginx")) {
    std::cout << "SKIP: nginx is not installed (tools/setup.sh installs it)\n";
    return tt::skip_exit_code;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
