// A three-node cluster on loopback (DESIGN §9): one PostgreSQL schema, librdkafka's mock Kafka
// cluster hosted by this test process, three certctl-server processes sharing one CA. 1,000
// certificates are requested through random nodes while one node is SIGKILLed mid-run; then
// every acknowledged request took effect exactly once, no serial exists twice, partitions
// (and so every entity) have exactly one live owner, the dead node's partitions moved, and
// certctl-audit verify passes on the shared log.
#define BOOST_TEST_MODULE integration_cluster
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <thread>

#include "infra/crypto/random.hpp"
#include "infra/kafka/mock_cluster.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/cluster_fixture.hpp"

using namespace certctl;
using namespace certctl::integration;
using steady = std::chrono::steady_clock;

namespace {

constexpr int total_requests = 1000;
constexpr int client_threads = 8;
constexpr int kill_after_acks = 300;

/// {"partitions": P, nodes: [{node_id, status, partitions}]} as seen by `node`.
std::map<std::string, std::set<int>> live_owners(const server_process& node) {
  api client(node);
  auto r = client.get("/api/v1/cluster");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  std::map<std::string, std::set<int>> out;
  for (const auto& n : doc["nodes"].GetArray()) {
    if (str(n, "status") != "up") continue;
    auto& owned = out[str(n, "node_id")];
    for (const auto& p : n["partitions"].GetArray()) owned.insert(p.GetInt());
  }
  return out;
}

/// True when the live nodes' partitions are disjoint and cover every partition.
bool single_owner_each(const std::map<std::string, std::set<int>>& owners) {
  std::multiset<int> all;
  for (const auto& [node, ps] : owners) all.insert(ps.begin(), ps.end());
  if (all.size() != commands_partitions) return false;
  for (int p = 0; p < commands_partitions; ++p)
    if (all.count(p) != 1) return false;
  return true;
}

struct load {
  std::atomic<int> next{0};
  std::atomic<int> acknowledged{0};
  std::atomic<int> retried{0};
  std::atomic<bool> node_dead[3] = {false, false, false};
  std::mutex mutex;
  std::set<std::string> acked_ids;
};

/// One client: each request goes to a random live node with a client-chosen id and an
/// Idempotency-Key, and is retried elsewhere (same id, same key) when the node fails.
void request_certificates(cluster_fixture& c, load& l, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::unique_ptr<httplib::SSLClient>> clients;
  for (const auto& n : c.nodes) clients.push_back(n->client(admin_key));
  for (int i = l.next++; i < total_requests; i = l.next++) {
    const std::string id = "mc-cl-" + std::to_string(i);
    const std::string name = "cluster-" + std::to_string(i);
    std::string body = certificate_body(name, name + ".example.test", {});
    body.insert(1, R"("id":")" + id + R"(",)");
    const httplib::Headers headers{{"Idempotency-Key", "cluster-test-" + id}};
    for (int attempt = 0; attempt < 20; ++attempt) {
      size_t node = rng() % clients.size();
      while (l.node_dead[node]) node = (node + 1) % clients.size();
      auto r = clients[node]->Post("/api/v1/certificates", headers, body, "application/json");
      if (r && (r->status == 201 || r->status == 200)) {
        std::lock_guard lock(l.mutex);
        l.acked_ids.insert(id);
        ++l.acknowledged;
        break;
      }
      // Transport failure (the node died) or 503 (owner unreachable for now): same request
      // again, possibly elsewhere. Anything else is a real failure.
      if (r && r->status != 503)
        BOOST_ERROR("request " << id << " answered " << r->status << ": " << r->body);
      if (r && r->status != 503) break;
      ++l.retried;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(three_nodes_survive_a_sigkill_with_every_request_applied_once) {
  cluster_fixture c;
  // The first node prepares the shared schemas; the others join once it is up.
  c.start_node("node-1");
  c.start_node("node-2");
  c.start_node("node-3");

  // Every partition with exactly one owner once the group has settled.
  std::map<std::string, std::set<int>> owners;
  for (auto until = steady::now() + std::chrono::seconds(30); steady::now() < until;) {
    owners = live_owners(*c.nodes[0]);
    if (owners.size() == 3 && single_owner_each(owners)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_REQUIRE_MESSAGE(owners.size() == 3 && single_owner_each(owners),
                        "the three nodes did not share the partitions");
  const std::set<int> dead_partitions = owners["node-2"];
  BOOST_TEST_MESSAGE("node-2 owned " << dead_partitions.size() << " of " << commands_partitions
                                     << " partitions before the kill");

  // A malformed record on the commands topic is rejected and the node carries on.
  auto garbage =
      run_command("printf 'not json' | " +
                  testing::command_line(
                      "kcat", {"-P", "-b", c.kafka->bootstrap_servers(), "-t", "certctl.commands",
                               "-p", "0", "-H", "certctl-request-id=garbage-1", "-H",
                               "certctl-reply-to=certctl.replies.nobody"}));
  BOOST_TEST(garbage.exit_code == 0, garbage.out);

  load l;
  const auto started = steady::now();
  std::vector<std::thread> clients;
  for (int t = 0; t < client_threads; ++t)
    clients.emplace_back([&, t] { request_certificates(c, l, 7919u * (t + 1)); });
  const auto deadline = steady::now() + std::chrono::seconds(240);
  while (l.acknowledged < kill_after_acks && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  l.node_dead[1] = true;
  c.nodes[1]->kill();
  BOOST_TEST_MESSAGE("SIGKILL node-2 after " << l.acknowledged << " acknowledged requests");
  for (auto& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(steady::now() - started).count();
  BOOST_TEST_MESSAGE("acknowledged " << l.acknowledged << " of " << total_requests << " in "
                                     << seconds << " s (" << l.retried << " retries)");
  BOOST_TEST(l.acknowledged.load() == total_requests);

  // Ownership moved: the two survivors share every partition, node-2's included.
  for (auto until = steady::now() + std::chrono::seconds(30); steady::now() < until;) {
    owners = live_owners(*c.nodes[0]);
    if (owners.size() == 2 && single_owner_each(owners)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  BOOST_TEST(owners.count("node-2") == 0);
  BOOST_TEST(single_owner_each(owners), "live partitions are not disjoint and complete");
  for (int p : dead_partitions)
    BOOST_TEST((owners["node-1"].count(p) + owners["node-3"].count(p)) == 1u,
               "partition " << p << " of node-2 has no single new owner");
  {
    api client(*c.nodes[2]);
    auto r = client.get("/api/v1/cluster");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    bool saw_down = false;
    for (const auto& n : r.json()["nodes"].GetArray())
      if (str(n, "node_id") == "node-2") saw_down = str(n, "status") == "down";
    BOOST_TEST(saw_down, "GET /api/v1/cluster does not report node-2 down: " << r.body);
  }

  // Ids the server makes are minted on partitions the receiving node owns, so a create
  // without an id runs where it arrived: no workflow forward (docs/cluster.md "Affinity").
  {
    api survivor(*c.nodes[2]);
    auto forwarded_creates = [&survivor] {
      auto r = survivor.get("/api/v1/cluster");
      BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
      auto doc = r.json();
      const auto& kinds = doc["this_node"]["forwarded_by_kind"];
      return kinds.HasMember("workflow:certificate.create")
                 ? kinds["workflow:certificate.create"].GetInt64()
                 : std::int64_t{0};
    };
    const auto before = forwarded_creates();
    for (int i = 0; i < 12; ++i) {
      const std::string name = "cluster-local-" + std::to_string(i);
      auto r =
          survivor.post("/api/v1/certificates", certificate_body(name, name + ".example.test", {}));
      BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
      const std::string id = str(r.json(), "id");
      l.acked_ids.insert(id);
    }
    BOOST_TEST(forwarded_creates() == before);
  }

  // Exactly once: every acknowledged certificate exists and was issued once (one version),
  // and no serial number exists twice anywhere.
  api client(*c.nodes[0]);
  std::map<std::string, std::string> serial_owner;
  int issued_once = 0;
  for (const auto& id : l.acked_ids) {
    auto doc = wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(90));
    BOOST_TEST(str(doc, "status") == "Active", id << " is " << str(doc, "status"));
    if (issued_once_with_unique_serials(client, id, serial_owner)) ++issued_once;
  }
  BOOST_TEST_MESSAGE(issued_once << " certificates issued exactly once, " << serial_owner.size()
                                 << " distinct serials");
  auto total = client.get("/api/v1/certificates?per_page=1");
  BOOST_REQUIRE_MESSAGE(total.status == 200, total.describe());
  BOOST_TEST(total.json()["total"].GetInt64() == static_cast<std::int64_t>(l.acked_ids.size()));

  // The malformed record was counted as rejected by whichever node owned partition 0.
  std::int64_t rejected = 0;
  for (int n : {0, 2}) {
    api a(*c.nodes[static_cast<size_t>(n)]);
    auto r = a.get("/api/v1/cluster");
    if (r.status == 200) rejected += r.json()["this_node"]["rejected_commands"].GetInt64();
  }
  const bool partition0_was_node2 = dead_partitions.count(0) > 0;
  if (!partition0_was_node2) BOOST_TEST(rejected >= 1);

  auto audit = run_command(shell_quote(built_binary("tools/audit/certctl-audit")) +
                           " verify --store " + shell_quote(c.pg.url));
  BOOST_TEST(audit.exit_code == 0, audit.out);
  BOOST_TEST_MESSAGE("certctl-audit: " << audit.out);
}

BOOST_AUTO_TEST_CASE(cluster_node_without_kafka_is_alive_but_not_ready) {
  temp_dir dir;
  pg_schema pg;
  make_shared_ca(dir.path);
  server_options o;
  o.extra_env = {{"CERTCTL_DATABASE_URL", pg.url},
                 {"CERTCTL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"},
                 {"CERTCTL_CLUSTER_ENABLED", "true"},
                 {"CERTCTL_CLUSTER_NODE_ID", "lonely"},
                 {"CERTCTL_CA_CERT_PATH", dir.path + "/ca.crt"},
                 {"CERTCTL_CA_KEY_PATH", dir.path + "/ca.key"},
                 {"CERTCTL_KEY_ENCRYPTION_KEY_FILE", make_kek(dir.path)}};
  server_process node(dir.path + "/lonely", o);
  auto c = node.client("");
  auto health = c->Get("/health");
  BOOST_REQUIRE(health);
  BOOST_TEST(health->status == 200);
  auto ready = c->Get("/ready");
  BOOST_REQUIRE(ready);
  BOOST_TEST(ready->status == 503, ready->body);
  BOOST_TEST(ready->body.find("cluster") != std::string::npos, ready->body);
  // A write cannot reach an owner: a clear 503, not a hang or a crash.
  api client(node);
  auto r = client.post("/api/v1/certificates", certificate_body("x", "x.example.test", {}));
  BOOST_TEST(r.status == 503, r.describe());
  BOOST_TEST(node.stop() == 0);
}
