// End to end with a real nginx (issue 12, LABEL peer): a certificate is issued through the
// API, certctl-agent makes its key, the server queues the deployment to the certificate's NGINX
// target, the agent deploys and `openssl s_client` sees the new certificate; a renewal is
// redeployed the same way; a broken validate command fails the job with nginx's own words and
// leaves the previous certificate serving. nginx missing: exit 77 (a failure under CI=true).
#define BOOST_TEST_MODULE integration_agent_nginx
#define BOOST_TEST_NO_MAIN
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/connectors/targets/peer_main.hpp"
#include "tests/integration/agent_process.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
namespace tt = certctl::testing::targets;

namespace {

constexpr const char* agent_key = "it-agent-key-0123456789abcdef";

/// A port of this test's own range (56100-56149) that nothing listens on now.
int nginx_port() {
  for (int p = 56110; p < 56150; ++p)
    if (run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(p) +
                    " </dev/null >/dev/null 2>&1")
            .exit_code != 0)
      return p;
  BOOST_FAIL("no free port in 56110-56149");
  return 0;
}

/// nginx on 127.0.0.1:port serving <dir>/certs/{cert,key}.pem, started with a boot cert.
struct nginx_daemon {
  explicit nginx_daemon(const std::string& dir) : prefix(dir), port(nginx_port()) {
    ::mkdir(certs().c_str(), 0755);
    ::mkdir((prefix + "/tmp").c_str(), 0755);
    const auto boot = tt::make_certificate("boot.test");
    tt::write_text(certs() + "/cert.pem", boot.cert_pem + boot.chain_pem);
    tt::write_text(certs() + "/key.pem", boot.key_pem);
    boot_fingerprint = boot.fingerprint;
    std::string temps;
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
      temps += std::string("  ") + t + "_temp_path " + prefix + "/tmp/" + t + ";\n";
    tt::write_text(conf(),
                   "daemon off;\nmaster_process on;\nuser root;\nworker_processes 1;\n"
                   "pid " +
                       prefix + "/nginx.pid;\nerror_log " + prefix +
                       "/error.log;\nevents { worker_connections 32; }\n"
                       "http {\n  access_log off;\n" +
                       temps + "  server {\n    listen 127.0.0.1:" + std::to_string(port) +
                       " ssl;\n    server_name localhost;\n    ssl_certificate " + certs() +
                       "/cert.pem;\n    ssl_certificate_key " + certs() +
                       "/key.pem;\n    location / { return 200 'ok'; }\n  }\n}\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"nginx", "-p", prefix, "-c", conf(), "-e", prefix + "/error.log"},
        prefix + "/nginx.out");
    BOOST_REQUIRE_MESSAGE(tt::wait_for_port(port),
                          "nginx did not start: " + tt::slurp(prefix + "/error.log"));
  }
  std::string certs() const { return prefix + "/certs"; }
  std::string conf() const { return prefix + "/nginx.conf"; }
  std::string args() const {
    return "-p " + prefix + " -c " + conf() + " -e " + prefix + "/error.log";
  }
  /// The NGINX target's config for this daemon; `validate` replaces the validate command.
  std::string target_config(const std::string& validate = "") const {
    return R"({"cert_path":")" + certs() + R"(/cert.pem","key_path":")" + certs() +
           R"(/key.pem","validate_command":")" +
           (validate.empty() ? "nginx -t -q " + args() : validate) +
           R"(","reload_command":"nginx )" + args() +
           R"( -s reload","post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","server_name":"localhost","timeout":"15s"}})";
  }

  std::string prefix;
  int port;
  std::string boot_fingerprint;
  std::unique_ptr<tt::daemon_process> daemon;
};

/// The Deployment jobs of `cert`, newest first, once `count` of them are finished.
rapidjson::Document finished_deployments(api& client, const std::string& cert, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = client.get("/api/v1/jobs?type=Deployment&certificate_id=" + cert);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    size_t done = 0;
    for (const auto& j : doc["data"].GetArray()) {
      const std::string s = str(j, "status");
      done += s == "Completed" || s == "Failed";
    }
    if (done >= count) return doc;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "deployments of " << cert << " did not finish: " << r.body);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string current_fingerprint(api& client, const std::string& cert) {
  auto r = client.get("/api/v1/certificates/" + cert + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  BOOST_REQUIRE(doc["data"].GetArray().Size() > 0);
  std::string newest;
  std::string newest_at;
  for (const auto& v : doc["data"].GetArray())
    if (newest.empty() || str(v, "created_at") > newest_at) {
      newest = str(v, "fingerprint_sha256");
      newest_at = str(v, "created_at");
    }
  return newest;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_nginx) {
  temp_dir dir;
  server_options opts;
  opts.keygen_mode = "agent";
  opts.named_keys = std::string(default_named_keys) + ",it-agent:" + agent_key + ":agent";
  server_process server(dir.path + "/data", opts);
  api client(server);
  nginx_daemon nginx(dir.path);

  auto agent = client.post("/api/v1/agents", R"({"id":"agent-web","name":"web"})");
  BOOST_REQUIRE_MESSAGE(agent.status == 201, agent.describe());
  auto target = client.post("/api/v1/targets", R"({"id":"tgt-nginx","name":"nginx","type":"NGINX",)"
                                               R"("agent_id":"agent-web","config":)" +
                                                   nginx.target_config() + "}");
  BOOST_REQUIRE_MESSAGE(target.status == 201, target.describe());

  agent_process proc(
      {"--server", "https://127.0.0.1:" + std::to_string(server.port()), "--api-key", agent_key,
       "--agent-id", "agent-web", "--key-dir", dir.path + "/keys", "--ca-bundle",
       server.ca_bundle(), "--outbound-allow-cidrs", "127.0.0.1/32", "--heartbeat-interval", "1s",
       "--poll-interval", "200ms", "--max-backoff", "1s"},
      dir.path + "/agent.log");

  // Issue: the agent makes the key, the server signs, the deployment follows by itself.
  auto created = client.post(
      "/api/v1/certificates",
      R"({"name":"web","common_name":"localhost","sans":["localhost"],"renewal_policy_id":"rp-default",)"
      R"("issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1","target_ids":["tgt-nginx"]})");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string cert = str(created.json(), "id");
  wait_for_certificate(client, cert, {"Active"});
  auto jobs = finished_deployments(client, cert, 1);
  const std::string first_error =
      jobs["data"][0].HasMember("last_error") ? str(jobs["data"][0], "last_error") : "";
  BOOST_REQUIRE_MESSAGE(str(jobs["data"][0], "status") == "Completed",
                        first_error + "\n" + proc.log());
  const std::string first = current_fingerprint(client, cert);
  BOOST_TEST(first != nginx.boot_fingerprint);
  BOOST_TEST(tt::served_fingerprint(nginx.port) == first);
  BOOST_TEST(tt::mode_of(nginx.certs() + "/key.pem") == 0600);

  // Renew: a new key and certificate, redeployed without anyone asking.
  auto renew = client.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
  wait_for_versions(client, cert, 2);
  jobs = finished_deployments(client, cert, 2);
  BOOST_TEST(str(jobs["data"][0], "status") == "Completed", proc.log());
  const std::string second = current_fingerprint(client, cert);
  BOOST_TEST(second != first);
  BOOST_TEST(tt::served_fingerprint(nginx.port) == second);

  // A validate command that fails: the job fails with nginx's words, nginx keeps the
  // certificate it served, and the files are the old ones.
  const std::string before = tt::slurp(nginx.certs() + "/cert.pem");
  auto broken = client.put("/api/v1/targets/tgt-nginx",
                           R"({"config":)" +
                               nginx.target_config("nginx -t -q -p " + nginx.prefix + " -c " +
                                                   nginx.prefix + "/missing.conf") +
                               "}");
  BOOST_REQUIRE_MESSAGE(broken.status == 200, broken.describe());
  auto renew2 = client.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE(renew2.status == 202);
  wait_for_versions(client, cert, 3);
  jobs = finished_deployments(client, cert, 3);
  BOOST_TEST(str(jobs["data"][0], "status") == "Failed");
  const std::string why = str(jobs["data"][0], "last_error");
  BOOST_TEST(why.find("missing.conf") != std::string::npos, why);
  BOOST_TEST(tt::served_fingerprint(nginx.port) == second);
  BOOST_TEST(tt::slurp(nginx.certs() + "/cert.pem") == before);

  proc.signal(SIGTERM);
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(10)) == 0, proc.log());
}

CERTCTL_TARGET_PEER_MAIN("nginx")
