// One work item at a time against a stand-in server (HTTPS, in the test) and the fake target:
// the CSR carries no key and the key stays in the key dir; a deployment reports Running, then
// Completed with the target's message, or Failed naming the step; a 410 stops the agent.
#include <httplib.h>

#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "connectors/fakes.hpp"
#include "infra/crypto/csr.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/tools/agent/agent_test_support.hpp"
#include "tools/agent/work_runner.hpp"

using namespace certctl;
using namespace certctl::agent;

namespace {

/// The server side of the agent's wire: records CSRs and status reports, serves one
/// certificate, and answers 410 once `retired` is set.
class stand_in_server {
 public:
  explicit stand_in_server(const std::string& dir) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout " +
        testing::shell_quote(dir + "/tls.key") + " -out " + testing::shell_quote(dir + "/tls.crt") +
        " 2>/dev/null";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    ca_bundle = dir + "/tls.crt";
    server_ = std::make_unique<httplib::SSLServer>((dir + "/tls.crt").c_str(),
                                                   (dir + "/tls.key").c_str());
    server_->Post(R"(/api/v1/agents/a-1/csr)", [this](const auto& req, auto& res) {
      std::lock_guard<std::mutex> lock(mu);
      csr_bodies.push_back(req.body);
      res.status = retired ? 410 : 202;
      res.set_content(R"({"status":"accepted"})", "application/json");
    });
    server_->Post(R"(/api/v1/agents/a-1/jobs/([^/]+)/status)", [this](const auto& req, auto& res) {
      std::lock_guard<std::mutex> lock(mu);
      reports.push_back(std::string(req.matches[1]) + " " + req.body);
      res.status = retired ? 410 : taken ? 409 : 200;
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    server_->Get(R"(/api/v1/agents/a-1/certificates/([^/]+))", [this](const auto&, auto& res) {
      std::lock_guard<std::mutex> lock(mu);
      events::json_object o;
      o.set("certificate_pem", chain).set("serial_number", serial).set("version_id", "cv-1");
      res.set_content(o.dump(), "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    BOOST_REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }
  ~stand_in_server() {
    server_->stop();
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  std::mutex mu;
  std::vector<std::string> csr_bodies, reports;
  std::string chain, serial;
  bool retired = false;
  bool taken = false;  ///< answer 409, as for a job another agent started or one cancelled
  std::string ca_bundle;

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

struct runner_fixture {
  runner_fixture()
      : server(dir.path),
        journal(std::make_shared<connectors::fakes::journal>()),
        keys(key_dir::open(dir.path + "/keys").value()) {
    BOOST_REQUIRE(registry.add(connectors::fakes::fake_target_registration(journal)).ok());
    auto c = server_client::open(server.url(), "agent-key", server.ca_bundle);
    BOOST_REQUIRE(c.ok());
    client = std::move(*c);
    runner = std::make_unique<work_runner>(*client, keys, registry, "a-1",
                                           [](const std::string&, const std::string&) {});
  }

  events::json_object item(const std::string& json) {
    return events::json_object::parse(json).value();
  }

  /// Issues a certificate for the key the agent made for mc-1 (the last CSR it sent).
  void issue_for_last_csr(const std::string& serial_hex) {
    std::lock_guard<std::mutex> lock(server.mu);
    BOOST_REQUIRE(!server.csr_bodies.empty());
    auto body = events::json_object::parse(server.csr_bodies.back()).value();
    auto csr = crypto::parse_csr(body.str("csr_pem"));
    BOOST_REQUIRE(csr.ok());
    server.chain = test::certificate_for(csr->public_key_der, "web.example.com", serial_hex);
    server.serial = serial_hex;
  }

  std::vector<std::string> reports() {
    std::lock_guard<std::mutex> lock(server.mu);
    return server.reports;
  }

  test::scratch_dir dir;
  stand_in_server server;
  std::shared_ptr<connectors::fakes::journal> journal;
  connectors::connector_registry registry;
  key_dir keys;
  std::unique_ptr<server_client> client;
  std::unique_ptr<work_runner> runner;
};

const char* csr_job =
    R"({"id":"job-1","type":"Issuance","status":"AwaitingCSR","certificate_id":"mc-1",)"
    R"("common_name":"web.example.com","sans":["web.example.com","10.0.0.7"]})";
const char* deploy_job =
    R"({"id":"job-2","type":"Deployment","status":"Pending","certificate_id":"mc-1",)"
    R"("target_id":"tgt-1","target_type":"FakeTarget","target_config":{"path":"/srv/tls"}})";

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_work_runner)

BOOST_FIXTURE_TEST_CASE(a_csr_job_sends_only_the_csr_and_keeps_the_key, runner_fixture) {
  BOOST_TEST((runner->run(item(csr_job)) == work_outcome::done));
  std::lock_guard<std::mutex> lock(server.mu);
  BOOST_REQUIRE_EQUAL(server.csr_bodies.size(), 1u);
  const auto body = events::json_object::parse(server.csr_bodies[0]).value();
  BOOST_TEST(server.csr_bodies[0].find("PRIVATE") == std::string::npos);
  BOOST_TEST(body.str("job_id") == "job-1");
  auto csr = crypto::parse_csr(body.str("csr_pem"));
  BOOST_REQUIRE(csr.ok());
  BOOST_TEST(csr->common_name == "web.example.com");
  BOOST_TEST(csr->ip_addresses.size() == 1u);
  BOOST_TEST(csr->key_algorithm == "ECDSA");
  BOOST_TEST(test::files_in(dir.path + "/keys").size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(rsa_is_made_when_the_work_item_asks_for_it, runner_fixture) {
  auto rsa = item(csr_job);
  rsa.set("key_algorithm", "RSA-2048");
  BOOST_TEST((runner->run(rsa) == work_outcome::done));
  std::lock_guard<std::mutex> lock(server.mu);
  auto body = events::json_object::parse(server.csr_bodies.at(0)).value();
  BOOST_TEST(crypto::parse_csr(body.str("csr_pem"))->key_algorithm == "RSA");
}

BOOST_FIXTURE_TEST_CASE(a_deployment_runs_validate_deploy_verify_and_reports_completed,
                        runner_fixture) {
  runner->run(item(csr_job));
  issue_for_last_csr("0A0B0C");
  BOOST_TEST((runner->run(item(deploy_job)) == work_outcome::done));
  auto r = reports();
  BOOST_REQUIRE_EQUAL(r.size(), 2u);
  BOOST_TEST(r[0].find(R"(job-2 {"status":"Running"})") == 0u, r[0]);
  BOOST_TEST(r[1].find("Completed") != std::string::npos, r[1]);
  BOOST_TEST(r[1].find("verified: serving serial 0A0B0C") != std::string::npos, r[1]);
  const auto calls = journal->calls();
  BOOST_REQUIRE_EQUAL(calls.size(), 3u);
  BOOST_TEST(calls[0] == "validate tgt-1");
  BOOST_TEST(calls[1] == "deploy tgt-1 mc-1");
  BOOST_TEST(calls[2] == "verify tgt-1 0A0B0C");
}

BOOST_FIXTURE_TEST_CASE(each_failing_step_fails_the_job_with_its_reason, runner_fixture) {
  runner->run(item(csr_job));
  issue_for_last_csr("0D");
  journal->fail_next("nginx -t: unknown directive");
  runner->run(item(deploy_job));
  auto r = reports();
  BOOST_TEST(r.back().find("Failed") != std::string::npos);
  BOOST_TEST(r.back().find("validate: nginx -t: unknown directive") != std::string::npos, r.back());

  auto bad_type = item(deploy_job);
  bad_type.set("target_type", "Nope");
  runner->run(bad_type);
  BOOST_TEST(reports().back().find("no target connector of type 'Nope'") != std::string::npos);

  auto bad_config = item(deploy_job);
  bad_config.set_raw("target_config", R"({"path":5})");
  runner->run(bad_config);
  BOOST_TEST(reports().back().find("config: path") != std::string::npos, reports().back());

  // A certificate whose key this agent does not hold.
  auto other = crypto::generate_key();
  {
    std::lock_guard<std::mutex> lock(server.mu);
    server.chain = test::certificate_for(other->public_key.spki_der, "web.example.com", "0E");
    server.serial = "0E";
  }
  runner->run(item(deploy_job));
  BOOST_TEST(reports().back().find("no private key for certificate mc-1") != std::string::npos,
             reports().back());
}

BOOST_FIXTURE_TEST_CASE(a_validation_job_only_validates, runner_fixture) {
  auto v = item(R"({"id":"job-3","type":"Validation","status":"Pending","target_id":"tgt-1",)"
                R"("target_type":"FakeTarget","target_config":{"path":"/srv/tls"}})");
  runner->run(v);
  BOOST_TEST(reports().back().find("Completed") != std::string::npos);
  BOOST_TEST(journal->calls().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_410_tells_the_loop_the_agent_is_retired, runner_fixture) {
  {
    std::lock_guard<std::mutex> lock(server.mu);
    server.retired = true;
  }
  BOOST_TEST((runner->run(item(deploy_job)) == work_outcome::retired));
  BOOST_TEST((runner->run(item(csr_job)) == work_outcome::retired));
  BOOST_TEST(journal->calls().empty());
}

BOOST_FIXTURE_TEST_CASE(a_job_the_server_will_not_start_is_left_alone, runner_fixture) {
  {
    std::lock_guard<std::mutex> lock(server.mu);
    server.taken = true;
  }
  BOOST_TEST((runner->run(item(deploy_job)) == work_outcome::done));
  BOOST_TEST(journal->calls().empty());  // nothing validated or deployed
  BOOST_TEST(reports().size() == 1u);    // only the refused Running
}

BOOST_AUTO_TEST_CASE(step_output_drops_private_keys_and_secrets_and_stays_short) {
  const std::string key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";
  BOOST_TEST(redact_output("loaded:\n" + key, {}) == "loaded:\n[private key redacted]");
  BOOST_TEST(redact_output("keytool -storepass s3cret-pw failed; s3cret-pw again", {"s3cret-pw"}) ==
             "keytool -storepass [redacted] failed; [redacted] again");
  // A secret too short to tell apart from ordinary words is not searched for.
  BOOST_TEST(redact_output("a b c", {"a"}) == "a b c");
  const auto cut = redact_output(std::string(5000, 'x'), {});
  BOOST_TEST(cut.size() == max_step_excerpt);
  BOOST_TEST(cut.substr(cut.size() - 3) == "...");
}

BOOST_AUTO_TEST_SUITE_END()
