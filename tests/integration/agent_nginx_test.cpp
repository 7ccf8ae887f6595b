// End to end with real daemons (issue 12, LABEL peer), once each for nginx, HAProxy and Apache:
// a certificate is issued through the API, certctl-agent makes its key, the server queues the
// deployment to the certificate's target, the agent deploys and `openssl s_client` sees the new
// certificate; a renewal is redeployed the same way; a broken validate command fails the job
// with the daemon's own words and leaves the previous certificate serving. A daemon missing:
// exit 77 (a failure under CI=true).
#define BOOST_TEST_MODULE integration_agent_nginx
#define BOOST_TEST_NO_MAIN
#include <signal.h>
#include <sys/stat.h>

#include <iostream>
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

/// A port of this test's own range (56710-56749) that nothing listens on now.
int daemon_port() {
  for (int p = 56710; p < 56750; ++p)
    if (run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(p) +
                    " </dev/null >/dev/null 2>&1")
            .exit_code != 0)
      return p;
  BOOST_FAIL("no free port in 56710-56749");
  return 0;
}

/// A throwaway TLS daemon on 127.0.0.1:port, started with a boot certificate, and the config
/// of the certctl target that deploys to it. One per target type; the flow below is shared.
struct tls_daemon {
  explicit tls_daemon(const std::string& dir)
      : prefix(dir), port(daemon_port()), boot(tt::make_certificate("boot.test")) {
    ::mkdir(certs().c_str(), 0755);
  }
  virtual ~tls_daemon() = default;
  tls_daemon(const tls_daemon&) = delete;
  tls_daemon& operator=(const tls_daemon&) = delete;

  virtual std::string type() const = 0;  ///< the target type
  /// The target's config for this daemon; `validate` replaces the validate command.
  virtual std::string target_config(const std::string& validate = "") const = 0;
  /// The daemon's own config check run against `missing`, a file that does not exist.
  virtual std::string validate_command_for(const std::string& missing) const = 0;
  virtual std::string key_file() const = 0;   ///< the deployed private key
  virtual std::string cert_file() const = 0;  ///< the deployed certificate

  std::string certs() const { return prefix + "/certs"; }
  /// The post-deploy check every target runs: the daemon must serve the new certificate.
  std::string verify() const {
    return R"("post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","server_name":"localhost","timeout":"20s"})";
  }
  /// Waits for the daemon's port; fails with its log otherwise.
  void started(const std::string& log) const {
    BOOST_REQUIRE_MESSAGE(tt::wait_for_port(port), type() + " did not start: " + tt::slurp(log) +
                                                       tt::slurp(prefix + "/daemon.out"));
  }

  std::string prefix;
  int port;
  tt::test_certificate boot;  ///< served until the first deployment
  std::unique_ptr<tt::daemon_process> daemon;
};

/// nginx serving <dir>/certs/{cert,key}.pem (cert followed by the chain); reloads with -s reload.
struct nginx_daemon : tls_daemon {
  explicit nginx_daemon(const std::string& dir) : tls_daemon(dir) {
    tt::write_text(cert_file(), boot.cert_pem + boot.chain_pem);
    tt::write_text(key_file(), boot.key_pem);
    ::mkdir((prefix + "/tmp").c_str(), 0755);
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
                       " ssl;\n    server_name localhost;\n    ssl_certificate " + cert_file() +
                       ";\n    ssl_certificate_key " + key_file() +
                       ";\n    location / { return 200 'ok'; }\n  }\n}\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"nginx", "-p", prefix, "-c", conf(), "-e", prefix + "/error.log"},
        prefix + "/daemon.out");
    started(prefix + "/error.log");
  }
  std::string type() const override { return "NGINX"; }
  std::string conf() const { return prefix + "/nginx.conf"; }
  std::string args() const {
    return "-p " + prefix + " -c " + conf() + " -e " + prefix + "/error.log";
  }
  std::string target_config(const std::string& validate) const override {
    return R"({"cert_path":")" + cert_file() + R"(","key_path":")" + key_file() +
           R"(","validate_command":")" + (validate.empty() ? "nginx -t -q " + args() : validate) +
           R"(","reload_command":"nginx )" + args() + R"( -s reload",)" + verify() + "}";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "nginx -t -q -p " + prefix + " -c " + missing;
  }
  std::string key_file() const override { return certs() + "/key.pem"; }
  std::string cert_file() const override { return certs() + "/cert.pem"; }
};

/// HAProxy (master-worker) serving one combined PEM; reloads with SIGUSR2 to the master.
struct haproxy_daemon : tls_daemon {
  explicit haproxy_daemon(const std::string& dir) : tls_daemon(dir) {
    tt::write_text(cert_file(), boot.cert_pem + boot.chain_pem + boot.key_pem);
    tt::write_text(conf(),
                   "global\n  maxconn 64\n"
                   "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n"
                   "  timeout server 5s\n"
                   "frontend fe\n  bind 127.0.0.1:" +
                       std::to_string(port) + " ssl crt " + cert_file() +
                       "\n  http-request return status 200 content-type text/plain "
                       "string ok\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"haproxy", "-W", "-db", "-f", conf()}, prefix + "/daemon.out");
    started(prefix + "/daemon.out");
  }
  std::string type() const override { return "HAProxy"; }
  std::string conf() const { return prefix + "/haproxy.cfg"; }
  std::string target_config(const std::string& validate) const override {
    return R"({"pem_path":")" + cert_file() + R"(","validate_command":")" +
           (validate.empty() ? "haproxy -c -q -f " + conf() : validate) +
           R"(","reload_command":"kill -USR2 )" + std::to_string(daemon->pid()) + R"(",)" +
           verify() + "}";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "haproxy -c -f " + missing;
  }
  std::string key_file() const override { return cert_file(); }  // key inside the one PEM
  std::string cert_file() const override { return certs() + "/site.pem"; }
};

/// Apache httpd (self-contained config, mpm_event) serving cert, chain and key files;
/// reloads with `apache2 -k graceful`.
struct apache_daemon : tls_daemon {
  explicit apache_daemon(const std::string& dir) : tls_daemon(dir) {
    tt::write_text(cert_file(), boot.cert_pem);
    tt::write_text(chain_file(), boot.chain_pem);
    tt::write_text(key_file(), boot.key_pem);
    const std::string& p = prefix;
    ::mkdir((p + "/run").c_str(), 0755);
    const std::string mods = "/usr/lib/apache2/modules/";
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    std::string modules;
    for (const char* m : {"mpm_event", "authz_core", "socache_shmcb", "ssl"})
      modules += std::string("LoadModule ") + m + "_module " + mods + "mod_" + m + ".so\n";
    tt::write_text(
        conf(), "ServerRoot " + p + "\nServerName localhost\nListen " + listen + "\nPidFile " + p +
                    "/run/httpd.pid\nDefaultRuntimeDir " + p + "/run\nMutex file:" + p +
                    "/run default\nErrorLog " + p + "/error.log\nUser www-data\nGroup www-data\n" +
                    modules + "SSLSessionCache shmcb:" + p + "/run/ssl_scache(512000)\n" +
                    "<VirtualHost " + listen + ">\n  SSLEngine on\n" + "  SSLCertificateFile " +
                    cert_file() + "\n" + "  SSLCertificateChainFile " + chain_file() + "\n" +
                    "  SSLCertificateKeyFile " + key_file() + "\n</VirtualHost>\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"apache2", "-f", conf(), "-DFOREGROUND"}, p + "/daemon.out");
    started(p + "/error.log");
  }
  std::string type() const override { return "Apache"; }
  std::string conf() const { return prefix + "/httpd.conf"; }
  std::string chain_file() const { return certs() + "/chain.pem"; }
  std::string target_config(const std::string& validate) const override {
    return R"({"cert_path":")" + cert_file() + R"(","key_path":")" + key_file() +
           R"(","chain_path":")" + chain_file() + R"(","validate_command":")" +
           (validate.empty() ? "apache2 -t -f " + conf() : validate) +
           R"(","reload_command":"apache2 -k graceful -f )" + conf() + R"(",)" + verify() + "}";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "apache2 -t -f " + missing;
  }
  std::string key_file() const override { return certs() + "/key.pem"; }
  std::string cert_file() const override { return certs() + "/cert.pem"; }
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

/// The whole flow against one daemon: issue through the API, the agent deploys and the daemon
/// serves it; renewal redeployed; a failing validate command fails the job with the daemon's
/// own words and leaves the previous certificate serving.
void deploy_through_the_agent(tls_daemon& daemon, const std::string& dir) {
  server_options opts;
  opts.keygen_mode = "agent";
  opts.named_keys = std::string(default_named_keys) + ",it-agent:" + agent_key + ":agent:agent-web";
  server_process server(dir + "/data", opts);
  api client(server);

  auto agent = client.post("/api/v1/agents", R"({"id":"agent-web","name":"web"})");
  BOOST_REQUIRE_MESSAGE(agent.status == 201, agent.describe());
  auto target =
      client.post("/api/v1/targets", R"({"id":"tgt-web","name":"web","type":")" + daemon.type() +
                                         R"(","agent_id":"agent-web","config":)" +
                                         daemon.target_config() + "}");
  BOOST_REQUIRE_MESSAGE(target.status == 201, target.describe());

  agent_process proc(
      {"--server", "https://127.0.0.1:" + std::to_string(server.port()), "--api-key", agent_key,
       "--agent-id", "agent-web", "--key-dir", dir + "/keys", "--ca-bundle", server.ca_bundle(),
       "--outbound-allow-cidrs", "127.0.0.1/32", "--heartbeat-interval", "1s", "--poll-interval",
       "200ms", "--max-backoff", "1s"},
      dir + "/agent.log");

  // Issue: the agent makes the key, the server signs, the deployment follows by itself.
  auto created = client.post(
      "/api/v1/certificates",
      R"({"name":"web","common_name":"localhost","sans":["localhost"],"renewal_policy_id":"rp-default",)"
      R"("issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1","target_ids":["tgt-web"]})");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string cert = str(created.json(), "id");
  wait_for_certificate(client, cert, {"Active"});
  auto jobs = finished_deployments(client, cert, 1);
  const std::string first_error =
      jobs["data"][0].HasMember("last_error") ? str(jobs["data"][0], "last_error") : "";
  BOOST_REQUIRE_MESSAGE(str(jobs["data"][0], "status") == "Completed",
                        first_error + "\n" + proc.log());
  const std::string first = current_fingerprint(client, cert);
  BOOST_TEST(first != daemon.boot.fingerprint);
  // HAProxy's former worker may accept for a moment after its reload: asked until it settles.
  BOOST_TEST(tt::eventually_served(daemon.port, first) == first);
  BOOST_TEST(tt::mode_of(daemon.key_file()) == 0600);

  // Renew: a new key and certificate, redeployed without anyone asking.
  auto renew = client.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
  wait_for_versions(client, cert, 2);
  jobs = finished_deployments(client, cert, 2);
  BOOST_TEST(str(jobs["data"][0], "status") == "Completed", proc.log());
  const std::string second = current_fingerprint(client, cert);
  BOOST_TEST(second != first);
  BOOST_TEST(tt::eventually_served(daemon.port, second) == second);

  // A validate command that fails: the job fails with the daemon's words, the daemon keeps the
  // certificate it served, and the files are the old ones.
  const std::string before = tt::slurp(daemon.cert_file());
  const std::string missing = daemon.prefix + "/missing.conf";
  auto broken = client.put(
      "/api/v1/targets/tgt-web",
      R"({"config":)" + daemon.target_config(daemon.validate_command_for(missing)) + "}");
  BOOST_REQUIRE_MESSAGE(broken.status == 200, broken.describe());
  auto renew2 = client.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE(renew2.status == 202);
  wait_for_versions(client, cert, 3);
  jobs = finished_deployments(client, cert, 3);
  BOOST_TEST(str(jobs["data"][0], "status") == "Failed");
  const std::string why = str(jobs["data"][0], "last_error");
  BOOST_TEST(why.find("missing.conf") != std::string::npos, why);
  BOOST_TEST(tt::served_fingerprint(daemon.port) == second);
  BOOST_TEST(tt::slurp(daemon.cert_file()) == before);

  proc.signal(SIGTERM);
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(10)) == 0, proc.log());
}

/// The daemon's own folder inside the test's temp dir.
std::string daemon_dir(const temp_dir& dir) {
  const std::string d = dir.path + "/daemon";
  ::mkdir(d.c_str(), 0755);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_nginx) {
  temp_dir dir;
  nginx_daemon nginx(daemon_dir(dir));
  deploy_through_the_agent(nginx, dir.path);
}

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_haproxy) {
  temp_dir dir;
  haproxy_daemon haproxy(daemon_dir(dir));
  deploy_through_the_agent(haproxy, dir.path);
}

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_apache) {
  temp_dir dir;
  apache_daemon apache(daemon_dir(dir));
  deploy_through_the_agent(apache, dir.path);
}

// Each daemon is needed: a missing one skips the whole test (77), a failure under CI=true.
int main(int argc, char* argv[]) {
  for (const char* program : {"nginx", "haproxy", "apache2"}) {
    if (!tt::have_program(program)) {
      std::cout << "SKIP: " << program << " is not installed (tools/setup.sh installs it)\n";
      return tt::skip_exit_code;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
