#include "tests/integration/agent_deploy_flow.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <mutex>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/integration/test_steps.hpp"

namespace certctl::integration {

namespace {

bool bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int port_in(int first, int last) {
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mu);
  for (int p = first; p <= last; ++p)
    if (given.count(p) == 0 && bindable(p)) {
      given.insert(p);
      return p;
    }
  BOOST_FAIL("no free port in " << first << "-" << last);
  return 0;
}

std::string fingerprint_of_output(const std::string& command) {
  auto r = run_command("(" + command + ") 2>/dev/null | openssl x509 -noout -fingerprint -sha256");
  const auto eq = r.out.find('=');
  if (r.exit_code != 0 || eq == std::string::npos) return "";
  std::string hex;
  for (const char c : r.out.substr(eq + 1))
    if (std::isxdigit(static_cast<unsigned char>(c)))
      hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return hex;
}

tls_daemon::tls_daemon(const std::string& dir, int port_)
    : prefix(dir), port(port_), boot(tt::make_certificate("boot.test")) {
  ::mkdir(certs().c_str(), 0755);
}

std::string tls_daemon::served() const {
  return tt::served_fingerprint(port);
}

std::string tls_daemon::eventually_served(const std::string& expected) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string now = served();
  while (now != expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = served();
  }
  return now;
}

std::string tls_daemon::verify() const {
  return R"("post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
         R"(","server_name":"localhost","timeout":"20s"})";
}

void tls_daemon::started(const std::string& log) const {
  BOOST_REQUIRE_MESSAGE(tt::wait_for_port(port), type() + " did not start: " + tt::slurp(log) +
                                                     tt::slurp(prefix + "/daemon.out"));
}

nginx_daemon::nginx_daemon(const std::string& dir, int port_) : tls_daemon(dir, port_) {
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

std::string nginx_daemon::args() const {
  return "-p " + prefix + " -c " + conf() + " -e " + prefix + "/error.log";
}

std::string nginx_daemon::target_config(const std::string& validate) const {
  return R"({"cert_path":")" + cert_file() + R"(","key_path":")" + key_file() +
         R"(","validate_command":")" + (validate.empty() ? "nginx -t -q " + args() : validate) +
         R"(","reload_command":"nginx )" + args() + R"( -s reload",)" + verify() + "}";
}

std::string nginx_daemon::validate_command_for(const std::string& missing) const {
  return "nginx -t -q -p " + prefix + " -c " + missing;
}

server_options agent_server_options(const std::string& agent_id) {
  server_options opts;
  opts.keygen_mode = "agent";
  opts.named_keys =
      std::string(default_named_keys) + ",it-agent:" + agent_key + ":agent:" + agent_id;
  return opts;
}

std::vector<std::string> agent_flags(const server_process& server, const std::string& agent_id,
                                     const std::string& key_dir) {
  return {"--server",
          "https://127.0.0.1:" + std::to_string(server.port()),
          "--api-key",
          agent_key,
          "--agent-id",
          agent_id,
          "--key-dir",
          key_dir,
          "--ca-bundle",
          server.ca_bundle(),
          "--outbound-allow-cidrs",
          "127.0.0.1/32",
          "--heartbeat-interval",
          "1s",
          "--poll-interval",
          "200ms",
          "--max-backoff",
          "1s"};
}

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

void deploy_through_the_agent(tls_daemon& daemon, const std::string& dir) {
  server_process server(dir + "/data", agent_server_options());
  api client(server);

  auto agent = client.post("/api/v1/agents", R"({"id":"agent-web","name":"web"})");
  BOOST_REQUIRE_MESSAGE(agent.status == 201, agent.describe());
  auto target =
      client.post("/api/v1/targets", R"({"id":"tgt-web","name":"web","type":")" + daemon.type() +
                                         R"(","agent_id":"agent-web","config":)" +
                                         daemon.target_config() + "}");
  BOOST_REQUIRE_MESSAGE(target.status == 201, target.describe());

  agent_process proc(agent_flags(server, "agent-web", dir + "/keys"), dir + "/agent.log");

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
  BOOST_TEST(daemon.eventually_served(first) == first);
  BOOST_TEST(tt::mode_of(daemon.key_file()) == 0600);

  // Checking the daemon can take longer than the server keeps an idle connection (keytool
  // starts a JVM): each phase after one talks over a connection of its own.
  api renewing(server);
  // Renew: a new key and certificate, redeployed without anyone asking.
  auto renew = renewing.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
  wait_for_versions(renewing, cert, 2);
  jobs = finished_deployments(renewing, cert, 2);
  BOOST_TEST(str(jobs["data"][0], "status") == "Completed", proc.log());
  const std::string second = current_fingerprint(renewing, cert);
  BOOST_TEST(second != first);
  BOOST_TEST(daemon.eventually_served(second) == second);
  api breaking(server);

  // A validate command that fails: the job fails with the daemon's words, the daemon keeps the
  // certificate it served, and the files are the old ones.
  const std::string before = tt::slurp(daemon.cert_file());
  const std::string missing = daemon.prefix + "/missing.conf";
  auto broken = breaking.put(
      "/api/v1/targets/tgt-web",
      R"({"config":)" + daemon.target_config(daemon.validate_command_for(missing)) + "}");
  BOOST_REQUIRE_MESSAGE(broken.status == 200, broken.describe());
  auto renew2 = breaking.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE(renew2.status == 202);
  wait_for_versions(breaking, cert, 3);
  jobs = finished_deployments(breaking, cert, 3);
  BOOST_TEST(str(jobs["data"][0], "status") == "Failed");
  const std::string why = str(jobs["data"][0], "last_error");
  BOOST_TEST(why.find("missing.conf") != std::string::npos, why);
  BOOST_TEST(daemon.served() == second);
  BOOST_TEST(tt::slurp(daemon.cert_file()) == before);

  // The whole event log, for the callers' own checks once the server is gone.
  api reading(server);
  tt::write_text(dir + "/events.json", whole_event_log(reading));
  tt::write_text(dir + "/job-events.json",
                 whole_event_log(reading, "job.failed,job.completed,job.step_recorded"));

  proc.signal(SIGTERM);
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(10)) == 0, proc.log());
}

std::string whole_event_log(api& client, const std::string& types) {
  std::string all;
  std::int64_t after = 0, head = -1;
  while (after != head) {
    auto r = client.get("/api/v1/events?limit=1000&after=" + std::to_string(after) +
                        (types.empty() ? "" : "&type=" + types));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    all += r.body;
    auto page = r.json();
    head = page["head"].GetInt64();
    after = page["next_after"].GetInt64();
  }
  return all;
}

std::string daemon_dir(const std::string& test_dir) {
  const std::string d = test_dir + "/daemon";
  ::mkdir(d.c_str(), 0755);
  ::chmod(test_dir.c_str(), 0755);  // daemons that drop privileges must reach their files
  return d;
}

}  // namespace certctl::integration
