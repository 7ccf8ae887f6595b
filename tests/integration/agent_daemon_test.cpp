// certctl-agent end to end (issue 12): the real agent binary against the real server binary.
// Keys are made on the agent and never reach the server; a retired agent exits on 410;
// SIGTERM stops it cleanly; filesystem discovery deduplicates one certificate found twice and
// the triage API claims and dismisses.
#define BOOST_TEST_MODULE integration_agent_daemon
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include <rapidjson/schema.h>

#include <boost/test/unit_test.hpp>

#include "tests/integration/agent_process.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
namespace fs = std::filesystem;

namespace {

constexpr const char* agent_key = "it-agent-key-0123456789abcdef";

/// Agent keys are bound to one agent (gateways/rest/auth_agent_binding.hpp): `agent` is the
/// only one whose operations the test's agent key may call.
server_options agent_mode(const std::string& agent) {
  server_options o;
  o.keygen_mode = "agent";
  o.named_keys = std::string(default_named_keys) + ",it-agent:" + agent_key + ":agent:" + agent;
  return o;
}

std::string register_agent(api& client, const std::string& id) {
  auto r = client.post("/api/v1/agents", R"({"id":")" + id + R"(","name":")" + id + R"("})");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return str(r.json(), "id");
}

/// Flags for an agent of `server` with short intervals (the defaults are 60 s and 30 s).
std::vector<std::string> agent_args(const server_process& server, const std::string& id,
                                    const std::string& key_dir) {
  return {"--server",
          "https://127.0.0.1:" + std::to_string(server.port()),
          "--api-key",
          agent_key,
          "--agent-id",
          id,
          "--key-dir",
          key_dir,
          "--ca-bundle",
          server.ca_bundle(),
          "--heartbeat-interval",
          "300ms",
          "--poll-interval",
          "200ms",
          "--max-backoff",
          "1s"};
}

std::vector<fs::path> key_files(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".key") out.push_back(e.path());
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

/// Every event in the log as one text (the whole /api/v1/events feed).
std::string whole_log(api& client) {
  std::string all;
  std::int64_t after = 0, head = -1;
  while (after != head) {
    auto r = client.get("/api/v1/events?limit=1000&after=" + std::to_string(after));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    all += r.body;
    auto page = r.json();
    head = page["head"].GetInt64();
    after = page["next_after"].GetInt64();
  }
  return all;
}

/// The base64 body of a PEM (no header lines, no newlines): what a leak would contain.
std::string pem_body(const std::string& pem) {
  std::string out;
  std::istringstream in(pem);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("-----", 0) != 0) out += line;
  return out;
}

std::string public_key_of_cert(const std::string& dir, const std::string& cert_pem) {
  write_file(dir + "/probe.pem", cert_pem);
  return run_command("openssl x509 -noout -pubkey -in " + shell_quote(dir + "/probe.pem")).out;
}

std::string public_key_of_key(const fs::path& key) {
  return run_command("openssl pkey -pubout -in " + shell_quote(key.string())).out;
}

/// Self-signed certificate for `cn` under `dir`: returns the PEM, leaves <name>.key/.pem.
std::string self_signed(const std::string& dir, const std::string& name, const std::string& cn) {
  auto r = run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
      "-keyout " +
      shell_quote(dir + "/" + name + ".key") + " -out " + shell_quote(dir + "/" + name + ".pem") +
      " -subj " + shell_quote("/CN=" + cn) + " 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return read_file(dir + "/" + name + ".pem");
}

/// Every event of this issue's kinds (and the jobs) in the log validates against its documented
/// payload schema (docs/events/schemas); returns how many were checked.
int check_documented_payloads(api& client) {
  const std::string docs = std::string(CERTCTL_SOURCE_DIR) + "/docs/events/schemas/";
  int checked = 0;
  std::int64_t after = 0, head = -1;
  while (after != head) {
    auto r = client.get("/api/v1/events?limit=1000&after=" + std::to_string(after));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto page = r.json();
    for (const auto& e : page["data"].GetArray()) {
      const std::string type = str(e, "type");
      bool ours = false;
      for (const char* k : {"target.", "discovered_certificate.", "discovery_scan.", "job."})
        ours = ours || type.rfind(k, 0) == 0;
      if (!ours) continue;
      rapidjson::Document sd;
      const std::string text = read_file(docs + type + ".json");
      sd.Parse(text.c_str());
      BOOST_REQUIRE_MESSAGE(!sd.HasParseError(), "no schema for " << type);
      rapidjson::SchemaDocument schema(sd);
      rapidjson::SchemaValidator v(schema);
      BOOST_TEST(e["payload"].Accept(v), type << " payload does not fit its schema (keyword "
                                              << v.GetInvalidSchemaKeyword() << ")");
      ++checked;
    }
    head = page["head"].GetInt64();
    after = page["next_after"].GetInt64();
  }
  return checked;
}

void discovery_scenario(const server_options& options) {
  temp_dir dir;
  server_process server(dir.path + "/data", options);
  api client(server);
  const std::string agent = register_agent(client, "agent-scan");
  const std::string a = dir.path + "/scan-a", b = dir.path + "/scan-b/nested";
  fs::create_directories(a);
  fs::create_directories(b);
  const std::string shared = self_signed(dir.path, "shared", "shared.example.test");
  const std::string other = self_signed(dir.path, "other", "other.example.test");
  // a/: the certificate with its private key in one PEM file; b/: the same one as DER, another
  // certificate, junk with a certificate extension and a file that is not a certificate file.
  write_file(a + "/bundle.pem", read_file(dir.path + "/shared.key") + shared);
  auto der = run_command("openssl x509 -in " + shell_quote(dir.path + "/shared.pem") +
                         " -outform DER -out " + shell_quote(b + "/shared.der"));
  BOOST_REQUIRE_EQUAL(der.exit_code, 0);
  write_file(b + "/other.CRT", other);
  write_file(b + "/junk.pem", "not a certificate");
  write_file(b + "/notes.txt", shared);

  auto args = agent_args(server, agent, dir.path + "/keys");
  args.insert(args.end(), {"--discovery-dirs", a + "," + dir.path + "/scan-b"});
  agent_process proc(args, dir.path + "/agent.log");

  // The scan is recorded after the certificates it found, and read models apply the log in
  // order: once the scan shows, its certificates do too.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  rapidjson::Document scan_page;
  for (;;) {
    auto scans = client.get("/api/v1/discovery-scans?agent_id=" + agent);
    BOOST_REQUIRE_MESSAGE(scans.status == 200, scans.describe());
    scan_page = scans.json();
    if (scan_page["data"].GetArray().Size() >= 1u) break;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "no discovery scan arrived: " << proc.log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto summary = client.get("/api/v1/discovery-summary").json();
  BOOST_TEST(summary["Unmanaged"].GetInt64() == 2);
  const auto& scan = scan_page["data"][0];
  BOOST_TEST(scan["certificates_found"].GetInt64() == 3);  // shared twice, other once
  BOOST_TEST(scan["certificates_new"].GetInt64() == 2);
  BOOST_TEST(scan["errors_count"].GetInt64() == 1);  // junk.pem

  auto list = client.get("/api/v1/discovered-certificates?agent_id=" + agent);
  BOOST_REQUIRE_MESSAGE(list.status == 200, list.describe());
  auto page = list.json();
  BOOST_REQUIRE_EQUAL(page["data"].GetArray().Size(), 2u);
  std::string shared_id, other_id;
  for (const auto& d : page["data"].GetArray()) {
    if (str(d, "common_name") == "shared.example.test") {
      shared_id = str(d, "id");
      BOOST_TEST(d["locations"].GetArray().Size() == 2u, list.body);
    } else {
      other_id = str(d, "id");
      BOOST_TEST(str(d, "common_name") == "other.example.test");
    }
    BOOST_TEST(str(d, "status") == "Unmanaged");
  }
  BOOST_REQUIRE(!shared_id.empty() && !other_id.empty());
  // The key that sat next to the certificate was not sent.
  BOOST_TEST(whole_log(client).find("PRIVATE KEY") == std::string::npos);

  auto managed =
      client.post("/api/v1/certificates", certificate_body("managed", "shared.example.test", {}));
  BOOST_REQUIRE_MESSAGE(managed.status == 201, managed.describe());
  const std::string managed_id = str(managed.json(), "id");
  auto bad = client.post("/api/v1/discovered-certificates/" + shared_id + "/claim",
                         R"({"managed_certificate_id":"mc-missing"})");
  BOOST_TEST(bad.status == 400, bad.describe());
  auto claimed = client.post("/api/v1/discovered-certificates/" + shared_id + "/claim",
                             R"({"managed_certificate_id":")" + managed_id + R"("})");
  BOOST_REQUIRE_MESSAGE(claimed.status == 200, claimed.describe());
  BOOST_TEST(str(claimed.json(), "status") == "Managed");
  auto dismissed = client.post("/api/v1/discovered-certificates/" + other_id + "/dismiss", "");
  BOOST_REQUIRE_MESSAGE(dismissed.status == 200, dismissed.describe());
  BOOST_TEST(str(dismissed.json(), "status") == "Dismissed");
  auto conflict = client.post("/api/v1/discovered-certificates/" + shared_id + "/dismiss", "");
  BOOST_TEST(conflict.status == 409, conflict.describe());

  auto one = client.get("/api/v1/discovered-certificates/" + shared_id, dismissed.position());
  BOOST_REQUIRE_MESSAGE(one.status == 200, one.describe());
  BOOST_TEST(str(one.json(), "managed_certificate_id") == managed_id);
  auto managed_list = client.get("/api/v1/discovered-certificates?status=Managed");
  BOOST_TEST(managed_list.json()["data"].GetArray().Size() == 1u, managed_list.body);
  auto bad_filter = client.get("/api/v1/discovered-certificates?status=Bogus");
  BOOST_TEST(bad_filter.status == 400, bad_filter.describe());
  summary = client.get("/api/v1/discovery-summary").json();
  BOOST_TEST(summary["Managed"].GetInt64() == 1);
  BOOST_TEST(summary["Dismissed"].GetInt64() == 1);
  BOOST_TEST(summary["Unmanaged"].GetInt64() == 0);
  BOOST_TEST(client.get("/api/v1/discovered-certificates/dc-nothing").status == 404);
  BOOST_TEST(check_documented_payloads(client) >= 6);

  proc.signal(SIGTERM);
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(10)) == 0, proc.log());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_daemon)

BOOST_AUTO_TEST_CASE(the_agent_generates_keys_locally_and_a_renewal_gets_a_new_key) {
  temp_dir dir;
  server_process server(dir.path + "/data", agent_mode("agent-keys"));
  api client(server);
  const std::string agent = register_agent(client, "agent-keys");
  const std::string keys = dir.path + "/keys";
  agent_process proc(agent_args(server, agent, keys), dir.path + "/agent.log");

  auto created =
      client.post("/api/v1/certificates", certificate_body("daemon", "daemon.example.test", {}));
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string cert = str(created.json(), "id");
  wait_for_certificate(client, cert, {"Active"});
  wait_for_versions(client, cert, 1);

  // The key dir is private, the key owner-only, and the certificate certifies that key.
  BOOST_TEST(mode_of(keys) == 0700u);
  auto files = key_files(keys);
  BOOST_REQUIRE_EQUAL(files.size(), 1u);
  BOOST_TEST(mode_of(files[0]) == 0600u);
  auto pem = client.get("/api/v1/certificates/" + cert + "/export/pem");
  BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
  const std::string first_pub = public_key_of_cert(dir.path, str(pem.json(), "cert_pem"));
  BOOST_TEST(!first_pub.empty());
  BOOST_TEST(first_pub == public_key_of_key(files[0]));

  // Heartbeats carried the host inventory.
  auto shown = client.get("/api/v1/agents/" + agent);
  BOOST_REQUIRE_MESSAGE(shown.status == 200, shown.describe());
  BOOST_TEST(!str(shown.json(), "hostname").empty());
  BOOST_TEST(!str(shown.json(), "os").empty());
  BOOST_TEST(!str(shown.json(), "architecture").empty());
  BOOST_TEST(!str(shown.json(), "version").empty());

  // A renewal: a second key, the new certificate on it.
  auto renew = client.post("/api/v1/certificates/" + cert + "/renew", "{}");
  BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
  wait_for_versions(client, cert, 2);
  wait_for_certificate(client, cert, {"Active"});
  pem = client.get("/api/v1/certificates/" + cert + "/export/pem");
  const std::string second_pub = public_key_of_cert(dir.path, str(pem.json(), "cert_pem"));
  BOOST_TEST(second_pub != first_pub);
  files = key_files(keys);
  BOOST_REQUIRE_EQUAL(files.size(), 2u);
  bool matched = false;
  for (const auto& f : files) matched = matched || public_key_of_key(f) == second_pub;
  BOOST_TEST(matched);

  // Neither key ever reached the server: no private key, and no key's bytes, in the log.
  const std::string log = whole_log(client);
  BOOST_TEST(log.find("PRIVATE KEY") == std::string::npos);
  for (const auto& f : files) {
    const std::string body = pem_body(read_file(f.string()));
    BOOST_REQUIRE(body.size() > 40);
    BOOST_TEST(log.find(body.substr(0, 40)) == std::string::npos);
  }

  proc.signal(SIGTERM);
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(10)) == 0, proc.log());
}

BOOST_AUTO_TEST_CASE(a_retired_agent_exits_cleanly_on_410_and_an_unknown_one_fails) {
  temp_dir dir;
  server_process server(dir.path + "/data", agent_mode("agent-retire"));
  api client(server);
  const std::string agent = register_agent(client, "agent-retire");
  agent_process proc(agent_args(server, agent, dir.path + "/keys"), dir.path + "/agent.log");
  // Running: its heartbeat is on record before it is retired.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (str(client.get("/api/v1/agents/" + agent).json(), "version").empty() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(proc.running());
  auto retired = client.del("/api/v1/agents/" + agent);
  BOOST_REQUIRE_MESSAGE(retired.status == 200, retired.describe());
  BOOST_TEST(proc.wait_exit(std::chrono::seconds(15)) == 0, proc.log());
  BOOST_TEST(proc.log().find("410") != std::string::npos, proc.log());

  agent_process stranger(agent_args(server, "agent-nobody", dir.path + "/keys2"),
                         dir.path + "/stranger.log");
  BOOST_TEST(stranger.wait_exit(std::chrono::seconds(15)) == 2, stranger.log());

  // Plain http is refused before anything is sent.
  auto args = agent_args(server, agent, dir.path + "/keys3");
  args[1] = "http://127.0.0.1:" + std::to_string(server.port());
  agent_process plain(args, dir.path + "/plain.log");
  BOOST_TEST(plain.wait_exit(std::chrono::seconds(10)) == 2);
  BOOST_TEST(plain.log().find("https") != std::string::npos, plain.log());
}

/// The discovery scenario on a server started with `options` (SQLite, or PostgreSQL).
BOOST_AUTO_TEST_CASE(discovery_deduplicates_a_certificate_found_twice_and_triage_works) {
  discovery_scenario(agent_mode("agent-scan"));
}

BOOST_AUTO_TEST_CASE(discovery_works_the_same_on_postgresql) {
  // The discovery read model's SQL on the production database, in a schema of its own.
  const char* base = std::getenv("CERTCTL_TEST_POSTGRES_URL");
  if (base == nullptr || *base == '\0')
    BOOST_FAIL(
        "CERTCTL_TEST_POSTGRES_URL is not set: run the suite with the README's test command");
  const std::string schema = "agent_it_" + std::to_string(::getpid());
  auto made = run_command(
      "psql " + shell_quote(base) + " -qc " +
      shell_quote("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema));
  BOOST_REQUIRE_MESSAGE(made.exit_code == 0, made.out);
  auto options = agent_mode("agent-scan");
  options.extra_env = {
      {"CERTCTL_DATABASE_URL", std::string(base) +
                                   (std::string(base).find('?') == std::string::npos ? "?" : "&") +
                                   "options=-csearch_path%3D" + schema}};
  discovery_scenario(options);
  run_command("psql " + shell_quote(base) + " -qc " +
              shell_quote("DROP SCHEMA " + schema + " CASCADE"));
}

BOOST_AUTO_TEST_CASE(targets_deployments_work_and_job_status_answer_as_the_spec_says) {
  // The wire of every target and deployment operation, captured for spec_check.py; the agent
  // is played by requests with its key (the nginx peer test runs the real agent).
  temp_dir dir;
  server_process server(dir.path + "/data", agent_mode("agent-wire"));
  api client(server);
  api as_agent(server, agent_key);
  register_agent(client, "agent-wire");
  const std::string config = R"({"cert_path":")" + dir.path + R"(/c.pem","key_path":")" + dir.path +
                             R"(/k.pem","reload_command":"true"})";
  auto created = client.post("/api/v1/targets", R"({"id":"tgt-wire","name":"web","type":"NGINX",)"
                                                R"("agent_id":"agent-wire","config":)" +
                                                    config + "}");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  BOOST_TEST(client.get("/api/v1/targets", created.position()).status == 200);
  BOOST_TEST(client.get("/api/v1/targets/tgt-wire", created.position()).status == 200);
  auto renamed = client.put("/api/v1/targets/tgt-wire", R"({"name":"web-1"})");
  BOOST_TEST(renamed.status == 200, renamed.describe());
  BOOST_TEST(client.post("/api/v1/targets", R"({"name":"x","type":"Nope","agent_id":"agent-wire"})")
                 .status == 400);

  auto test = client.post("/api/v1/targets/tgt-wire/test", "");
  BOOST_REQUIRE_MESSAGE(test.status == 200, test.describe());
  const std::string validation = str(test.json(), "job_id");
  auto work = as_agent.get("/api/v1/agents/agent-wire/work", test.position());
  BOOST_REQUIRE_MESSAGE(work.status == 200, work.describe());
  BOOST_TEST(work.body.find(validation) != std::string::npos, work.body);
  BOOST_TEST(work.body.find(R"("target_type":"NGINX")") != std::string::npos, work.body);
  auto running = as_agent.post("/api/v1/agents/agent-wire/jobs/" + validation + "/status",
                               R"({"status":"Running"})");
  BOOST_TEST(running.status == 200, running.describe());
  auto failed = as_agent.post("/api/v1/agents/agent-wire/jobs/" + validation + "/status",
                              R"({"status":"Failed","error":"validate: no such directory"})");
  BOOST_TEST(failed.status == 200, failed.describe());
  auto job = wait_for_job(client, validation, "Failed");
  BOOST_TEST(str(job, "last_error") == "validate: no such directory");

  auto cert =
      client.post("/api/v1/certificates", certificate_body("wire", "wire.example.test", {}));
  BOOST_REQUIRE(cert.status == 201);
  const std::string cert_id = str(cert.json(), "id");
  auto deploy =
      client.post("/api/v1/certificates/" + cert_id + "/deploy", R"({"target_id":"tgt-wire"})");
  BOOST_REQUIRE_MESSAGE(deploy.status == 202, deploy.describe());
  auto deployments =
      client.get("/api/v1/certificates/" + cert_id + "/deployments", deploy.position());
  BOOST_TEST(deployments.status == 200, deployments.describe());
  BOOST_TEST(deployments.body.find("tgt-wire") != std::string::npos);
  BOOST_TEST(client.del("/api/v1/targets/tgt-wire").status == 204);
  BOOST_TEST(check_documented_payloads(client) >= 8);
}

BOOST_AUTO_TEST_SUITE_END()
