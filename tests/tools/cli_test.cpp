// certctl (the API client) as an operator runs it: the built binary, over TLS, against a small
// fake API server in this process that checks the Bearer key and answers in the spec's shapes.
#define BOOST_TEST_MODULE tools_cli
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

namespace fs = std::filesystem;

#include "tests/support/subprocess.hpp"

namespace {

const std::string certctl_binary = std::string(CERTCTL_BINARY_DIR) + "/tools/cli/certctl";
const std::string api_key = "test-key";

const std::string cert_a =
    R"({"id":"mc-api-prod","name":"API prod","common_name":"api.example.com",)"
    R"("sans":["api.example.com","www.example.com"],"status":"Active",)"
    R"("expires_at":"2027-01-15T00:00:00Z","issuer_id":"iss-local","owner_id":"o-alice",)"
    R"("team_id":"t-platform","renewal_policy_id":"rp-default","tags":{"env":"prod"}})";
const std::string cert_b =
    R"({"id":"mc-staging-web-frontend","name":"web","common_name":"staging.example.com",)"
    R"("sans":[],"status":"Expiring","expires_at":"2026-12-01T00:00:00Z"})";
const std::string cert_list =
    "{\"data\":[" + cert_a + "," + cert_b + "],\"total\":5,\"page\":1,\"per_page\":2}";
const std::string job_list =
    R"({"data":[{"id":"job-1a2b","type":"Renewal","certificate_id":"mc-api-prod",)"
    R"("status":"Running","attempts":1,"max_attempts":3}],"total":1,"page":1,"per_page":50})";
const std::string agent_list =
    R"({"data":[{"id":"ag-web-01","name":"web 01","hostname":"web01.internal",)"
    R"("status":"Online","last_heartbeat_at":"2026-11-27T08:00:00Z"}],)"
    R"("total":1,"page":1,"per_page":50})";
const std::string pem = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using certctl::testing::shell_quote;

void make_self_signed(const fs::path& dir, const std::string& name) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout " +
      shell_quote((dir / (name + ".key")).string()) + " -out " +
      shell_quote((dir / (name + ".crt")).string()) + " 2>/dev/null";
  BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "openssl failed: " + cmd);
}

/// The fake API: one TLS server for the whole test run, recording every request it sees.
class fake_api {
 public:
  fake_api() : dir_(fs::temp_directory_path() / ("certctl-cli-test-" + std::to_string(getpid()))) {
    fs::create_directories(dir_);
    make_self_signed(dir_, "server");
    make_self_signed(dir_, "other");  // a valid CA bundle that did not sign the server
    server_ = std::make_unique<httplib::SSLServer>((dir_ / "server.crt").c_str(),
                                                   (dir_ / "server.key").c_str());
    BOOST_REQUIRE(server_->is_valid());
    routes();
    port_ = server_->bind_to_any_port("127.0.0.1");
    BOOST_REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }
  ~fake_api() {
    server_->stop();
    thread_.join();
    fs::remove_all(dir_);
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  fs::path path(const std::string& name) const { return dir_ / name; }
  void enable_summary(bool on) {
    std::lock_guard lock(mu_);
    summary_ = on;
  }
  void forget_requests() {
    std::lock_guard lock(mu_);
    last_.clear();
  }
  /// "METHOD /path?k=v&... body" of the last request under /api/v1.
  std::string last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  static void json(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "application/json");
  }

  /// Remembers `req`. The pre-routing handler sees requests before their body is read, so the
  /// POST handlers note them again.
  void note(const httplib::Request& req) {
    std::string line = req.method + " " + req.path;
    char sep = '?';
    for (const auto& [k, v] : req.params) line += std::exchange(sep, '&') + k + "=" + v;
    std::lock_guard lock(mu_);
    last_ = line + " " + req.body;
  }

  void routes() {
    server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.path.rfind("/api/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
      note(req);
      if (req.path == "/api/v1/version" ||
          req.get_header_value("Authorization") == "Bearer " + api_key)
        return httplib::Server::HandlerResponse::Unhandled;
      json(res, 401, R"({"error":"invalid or missing API key","request_id":"req-401"})");
      return httplib::Server::HandlerResponse::Handled;
    });
    auto not_found = [](httplib::Response& res, const std::string& what) {
      json(res, 404, R"({"error":")" + what + R"( not found","request_id":"req-404"})");
    };
    // A fixed answer; `answer` also notes the request with its body (POSTs).
    auto fixed = [](int status, std::string body) {
      return [status, body](const httplib::Request&, httplib::Response& res) {
        json(res, status, body);
      };
    };
    auto answer = [this](int status, std::string body) {
      return [this, status, body](const httplib::Request& req, httplib::Response& res) {
        note(req);
        json(res, status, body);
      };
    };
    auto& s = *server_;
    s.Get("/health", fixed(200, R"({"status":"healthy"})"));
    s.Get("/ready", fixed(200, R"({"status":"ready"})"));
    s.Get("/api/v1/version",
          fixed(200, R"({"version":"v0.1.0","commit":"0123456789abcdef",)"
                     R"("modified":false,"build_time":"","go_version":"g++ 12.2.0"})"));
    s.Get("/api/v1/stats/summary", [this, not_found](auto&, auto& res) {
      std::lock_guard lock(mu_);
      if (!summary_) return not_found(res, "route");
      json(res, 200,
           R"({"total_certificates":5,"expiring_certificates":1,"expired_certificates":0,)"
           R"("revoked_certificates":2,"active_agents":1,"offline_agents":0,"total_agents":1,)"
           R"("pending_jobs":0,"failed_jobs":0,"complete_jobs":7})");
    });
    s.Get("/api/v1/certificates", fixed(200, cert_list));
    s.Post("/api/v1/certificates", answer(201, cert_a));
    s.Get("/api/v1/certificates/([^/]+)", [not_found](auto& req, auto& res) {
      if (req.matches[1] != "mc-api-prod") return not_found(res, "certificate");
      json(res, 200, cert_a);
    });
    s.Get("/api/v1/certificates/mc-api-prod/export/pem",
          fixed(200, R"({"cert_pem":")" + pem + R"(","chain_pem":"","full_pem":")" + pem + "\"}"));
    s.Post("/api/v1/certificates/mc-api-prod/renew",
           answer(202, R"({"status":"renewal_triggered"})"));
    s.Post("/api/v1/certificates/mc-api-prod/revoke", answer(200, R"({"status":"revoked"})"));
    s.Get("/api/v1/jobs", fixed(200, job_list));
    s.Post("/api/v1/jobs/job-1a2b/cancel", answer(200, R"({"status":"Cancelled"})"));
    s.Get("/api/v1/agents", fixed(200, agent_list));
  }

  fs::path dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string last_;
  bool summary_ = false;
};

fake_api& api() {
  static fake_api instance;
  return instance;
}

using env_vars = std::map<std::string, std::string>;

/// The environment of a configured operator: server URL, key and CA bundle.
env_vars configured() {
  return {{"CERTCTL_SERVER_URL", api().url()},
          {"CERTCTL_API_KEY", api_key},
          {"CERTCTL_SERVER_CA_BUNDLE_PATH", api().path("server.crt").string()}};
}

/// Runs certctl with exactly `env` for its CERTCTL_* variables; captures both streams.
certctl::testing::process_result run_certctl(const std::vector<std::string>& args,
                                             const env_vars& env = configured()) {
  std::string cmd = "env -u CERTCTL_SERVER_URL -u CERTCTL_API_KEY -u CERTCTL_SERVER_CA_BUNDLE_PATH";
  for (const auto& [k, v] : env) cmd += " " + k + "=" + shell_quote(v);
  cmd += " " + certctl::testing::command_line(certctl_binary, args);
  auto r = certctl::testing::run_shell(cmd, true);
  BOOST_TEST_MESSAGE("certctl exit " << r.exit_code << "\nstdout:\n"
                                     << r.out << "stderr:\n"
                                     << r.err);
  return r;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// "certs get a b" -> {"certs", "get", "a", "b"}.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(certs_list_table_aligns_columns_and_pages) {
  auto r = run_certctl({"certs", "list", "--status", "Active", "--issuer", "iss-local", "--page",
                        "1", "--per-page", "2"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(api().last_request() ==
             "GET /api/v1/certificates?issuer_id=iss-local&page=1&per_page=2&status=Active ");
  const auto lines = lines_of(r.out);
  BOOST_REQUIRE(lines.size() == 5);
  BOOST_TEST(lines[0].rfind("ID  ", 0) == 0);
  BOOST_TEST(contains(lines[0], "COMMON NAME"));
  // Every row's STATUS and EXPIRES start where their headers do.
  for (const char* header : {"STATUS", "EXPIRES"}) {
    const auto col = lines[0].find(header);
    BOOST_TEST(lines[1].find(header == std::string("STATUS") ? "Active" : "2027-01-15") == col);
    BOOST_TEST(lines[2].find(header == std::string("STATUS") ? "Expiring" : "2026-12-01") == col);
  }
  BOOST_TEST(lines[3].empty());
  BOOST_TEST(lines[4] == "page 1 of 3 (5 total)");
}

BOOST_AUTO_TEST_CASE(json_format_prints_the_server_body_unchanged) {
  auto r = run_certctl({"certs", "list", "--format", "json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == cert_list + "\n");
  // Global flags also work before the command words.
  r = run_certctl({"--format=json", "certs", "get", "mc-api-prod"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == cert_a + "\n");
}

BOOST_AUTO_TEST_CASE(certs_get_prints_key_value_lines) {
  auto r = run_certctl({"certs", "get", "mc-api-prod"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "id:                mc-api-prod\n"));
  BOOST_TEST(contains(r.out, "common_name:       api.example.com\n"));
  BOOST_TEST(contains(r.out, "sans:              api.example.com, www.example.com\n"));
  BOOST_TEST(contains(r.out, "tags:              env=prod\n"));
}

BOOST_AUTO_TEST_CASE(not_found_prints_the_server_error_and_exits_1) {
  auto r = run_certctl({"certs", "get", "mc-missing"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "error: certificate not found (request req-404)\n");
}

BOOST_AUTO_TEST_CASE(wrong_or_missing_key_exits_1_with_the_401_message) {
  auto env = configured();
  env["CERTCTL_API_KEY"] = "wrong";
  auto r = run_certctl({"jobs", "list"}, env);
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err == "error: invalid or missing API key (request req-401)\n");
  env.erase("CERTCTL_API_KEY");
  BOOST_TEST(run_certctl({"agents", "list"}, env).exit_code == 1);
  // --api-key overrides the variable.
  BOOST_TEST(run_certctl({"agents", "list", "--api-key", api_key}, env).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(actions_post_the_documented_bodies) {
  auto r = run_certctl({"certs", "renew", "mc-api-prod"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(api().last_request() == "POST /api/v1/certificates/mc-api-prod/renew {}");
  BOOST_TEST(r.out == "status: renewal_triggered\n");

  r = run_certctl({"certs", "revoke", "mc-api-prod", "--reason", "keyCompromise"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(api().last_request() ==
             R"(POST /api/v1/certificates/mc-api-prod/revoke {"reason":"keyCompromise"})");

  r = run_certctl({"jobs", "cancel", "job-1a2b"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(api().last_request() == "POST /api/v1/jobs/job-1a2b/cancel {}");

  r = run_certctl({"certs", "create", "--name", "API prod", "--cn", "api.example.com", "--san",
                   "api.example.com", "--san", "www.example.com", "--issuer", "iss-local",
                   "--policy", "rp-default", "--owner", "o-alice", "--team", "t-platform"});
  BOOST_TEST(r.exit_code == 0);
  const std::string req = api().last_request();
  BOOST_TEST(req.rfind("POST /api/v1/certificates {", 0) == 0);
  for (const char* field : {R"("name":"API prod")", R"("common_name":"api.example.com")",
                            R"("sans":["api.example.com","www.example.com"])",
                            R"("issuer_id":"iss-local")", R"("renewal_policy_id":"rp-default")",
                            R"("owner_id":"o-alice")", R"("team_id":"t-platform")"})
    BOOST_TEST(contains(req, field), field);
}

BOOST_AUTO_TEST_CASE(certs_export_writes_the_pem_chain) {
  const fs::path out = api().path("exported.pem");
  auto r = run_certctl({"certs", "export", "mc-api-prod", "--out", out.string()});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(read_file(out) == "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
}

BOOST_AUTO_TEST_CASE(jobs_and_agents_tables) {
  auto r = run_certctl({"jobs", "list", "--status", "Running"});
  BOOST_TEST(r.exit_code == 0);
  auto lines = lines_of(r.out);
  BOOST_REQUIRE(lines.size() == 4);
  BOOST_TEST(lines[0] == "ID        TYPE     CERTIFICATE  STATUS   ATTEMPTS");
  BOOST_TEST(lines[1] == "job-1a2b  Renewal  mc-api-prod  Running  1/3");
  BOOST_TEST(lines[3] == "page 1 of 1 (1 total)");

  r = run_certctl({"agents", "list"});
  BOOST_TEST(r.exit_code == 0);
  lines = lines_of(r.out);
  BOOST_REQUIRE(lines.size() == 4);
  BOOST_TEST(lines[0] == "ID         NAME    HOSTNAME        STATUS  LAST HEARTBEAT");
  BOOST_TEST(lines[1] == "ag-web-01  web 01  web01.internal  Online  2026-11-27T08:00:00Z");
}

BOOST_AUTO_TEST_CASE(status_tolerates_a_missing_summary) {
  auto env = configured();
  env.erase("CERTCTL_API_KEY");
  auto r = run_certctl({"status"}, env);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "health:        healthy\n"));
  BOOST_TEST(contains(r.out, "ready:         ready\n"));
  BOOST_TEST(contains(r.out, "version:       v0.1.0 (commit 0123456789ab, g++ 12.2.0)\n"));
  BOOST_TEST(contains(r.out, "summary:       skipped"));

  api().enable_summary(false);
  r = run_certctl({"status"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "summary:       not available on this server\n"));

  api().enable_summary(true);
  r = run_certctl({"status"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, "certificates:  5 total, 1 expiring, 0 expired, 2 revoked\n"));
  r = run_certctl({"status", "--format", "json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.out, R"("health":{"status":"healthy"})"));
  BOOST_TEST(contains(r.out, R"("total_certificates":5)"));
  api().enable_summary(false);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_usage_text) {
  for (const char* line : {"", "bogus", "certs", "certs frobnicate", "certs get", "certs get a b",
                           "certs list --bogus", "certs list --page 0", "certs list --format xml",
                           "certs create --name x", "jobs get --timeout soon job-1"}) {
    const auto args = words(line);
    auto r = run_certctl(args);
    BOOST_TEST(r.exit_code == 2);
    BOOST_TEST(contains(r.err, "error: "));
    BOOST_TEST(contains(r.err, "usage: certctl"));
    BOOST_TEST(r.out.empty());
  }
}

BOOST_AUTO_TEST_CASE(help_on_every_level_exits_0) {
  for (const char* line :
       {"--help", "certs --help", "certs list --help", "jobs -h", "jobs cancel --help",
        "agents --help", "agents get --help", "status --help"}) {
    const auto args = words(line);
    auto r = run_certctl(args);
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.out.rfind("usage: certctl", 0) == 0);
  }
}

BOOST_AUTO_TEST_CASE(untrusted_server_or_no_server_exits_3_naming_the_url) {
  auto env = configured();
  env["CERTCTL_SERVER_CA_BUNDLE_PATH"] = api().path("other.crt").string();
  api().forget_requests();
  auto r = run_certctl({"certs", "list"}, env);
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(contains(r.err, "TLS verification of " + api().url() + " failed"));
  BOOST_TEST(r.out.empty());
  BOOST_TEST(api().last_request().empty());  // the key never reached the server

  // --insecure connects anyway, but never silently.
  r = run_certctl({"certs", "list", "--insecure"}, env);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(contains(r.err, "warning: --insecure"));

  env["CERTCTL_SERVER_CA_BUNDLE_PATH"] = api().path("missing.crt").string();
  r = run_certctl({"status"}, env);
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(contains(r.err, "missing.crt"));

  r = run_certctl({"status", "--server", "https://127.0.0.1:1", "--timeout", "2"});
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(contains(r.err, "https://127.0.0.1:1"));
}
