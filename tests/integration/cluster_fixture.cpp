#include "tests/integration/cluster_fixture.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "infra/crypto/random.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::integration {

namespace {

std::string postgres_base_url() {
  const char* url = std::getenv("CERTCTL_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0')
    BOOST_FAIL(
        "CERTCTL_TEST_POSTGRES_URL is not set: run the suite with the README's test command");
  return url;
}

}  // namespace

pg_schema::pg_schema() : base(postgres_base_url()), name("cl_" + crypto::random_hex(6)) {
  pqxx::connection c(base);
  pqxx::work tx(c);
  tx.exec0("CREATE SCHEMA " + name);
  tx.commit();
  url =
      base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name;
}

pg_schema::~pg_schema() {
  try {
    pqxx::connection c(base);
    pqxx::work tx(c);
    tx.exec0("DROP SCHEMA " + name + " CASCADE");
    tx.commit();
  } catch (const std::exception&) {
    // A leftover schema in the throwaway test server harms nothing.
  }
}

void make_shared_ca(const std::string& dir) {
  auto r = run_command(testing::command_line(
      "openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "30", "-subj",
                  "/CN=certctl cluster test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"}));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
}

std::string make_kek(const std::string& dir) {
  const std::string path = dir + "/kek.key";
  const auto key = crypto::random_bytes(32);
  auto made = crypto::write_file_atomic(
      path, std::string(reinterpret_cast<const char*>(key.data()), key.size()), 0600);
  BOOST_REQUIRE_MESSAGE(made, "kek: " << (made ? "" : made.error().message));
  return path;
}

cluster_fixture::cluster_fixture() {
  auto mock = kafka::mock_cluster::start(3);
  BOOST_REQUIRE_MESSAGE(mock, "mock cluster: " + (mock ? "" : mock.error().message));
  kafka = std::move(mock).value();
  BOOST_REQUIRE(kafka->create_topic("certctl.commands", commands_partitions));
  BOOST_REQUIRE(kafka->create_topic("certctl.events", 4));
  make_shared_ca(dir.path);
  kek_path = make_kek(dir.path);
}

server_options cluster_fixture::node_options(
    const std::string& node_id, const std::map<std::string, std::string>& extra) const {
  server_options o;
  o.keygen_mode = keygen_mode;
  o.extra_env = {{"CERTCTL_DATABASE_URL", pg.url},
                 {"CERTCTL_KAFKA_BOOTSTRAP_SERVERS", kafka->bootstrap_servers()},
                 {"CERTCTL_CLUSTER_ENABLED", "true"},
                 {"CERTCTL_CLUSTER_NODE_ID", node_id},
                 {"CERTCTL_CLUSTER_SESSION_TIMEOUT_MS", "6000"},
                 {"CERTCTL_CLUSTER_REQUEST_TIMEOUT_MS", "20000"},
                 {"CERTCTL_CA_CERT_PATH", dir.path + "/ca.crt"},
                 {"CERTCTL_CA_KEY_PATH", dir.path + "/ca.key"},
                 {"CERTCTL_KEY_ENCRYPTION_KEY_FILE", kek_path},
                 {"CERTCTL_ISSUANCE_WORKERS", "8"},
                 // Jobs the killed node was running are retried by their owner this soon.
                 {"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "10"}};
  for (const auto& [k, v] : extra) o.extra_env[k] = v;
  return o;
}

void cluster_fixture::start_node(const std::string& node_id,
                                 const std::map<std::string, std::string>& extra) {
  nodes.push_back(
      std::make_unique<server_process>(dir.path + "/" + node_id, node_options(node_id, extra)));
  wait_ready(*nodes.back());
}

void cluster_fixture::wait_ready(const server_process& node) {
  auto c = node.client("");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = c->Get("/ready");
    if (r && r->status == 200) return;
    if (std::chrono::steady_clock::now() > deadline)
      BOOST_FAIL("node on port " << node.port() << " not ready: " << (r ? r->body : "no answer")
                                 << "\n"
                                 << node.logs());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace certctl::integration
