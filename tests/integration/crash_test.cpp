// Crash safety: SIGKILL the server in the middle of a burst of certificate creations, restart
// it on the same data dir, and check that every acknowledged write survived, that no serial
// number was issued twice and that the hash chain is intact.
#define BOOST_TEST_MODULE integration_crash
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/integration/api.hpp"

using namespace certctl::integration;
using steady = std::chrono::steady_clock;

namespace {

constexpr int total_creations = 500;
constexpr int client_threads = 8;
constexpr int kill_after_acks = 250;

struct burst {
  std::atomic<int> next{0};
  std::atomic<int> acknowledged{0};
  std::mutex mutex;
  std::vector<std::string> acked_ids;
};

/// One client: creates certificates until the burst is used up or the server is gone.
void create_until_gone(const server_process& server, burst& b) {
  api client(server);
  for (int i = b.next++; i < total_creations; i = b.next++) {
    const std::string name = "crash-" + std::to_string(i);
    auto r =
        client.post("/api/v1/certificates", certificate_body(name, name + ".example.test", {}));
    if (r.status == 0) return;  // the server died under us; the write is unacknowledged
    if (r.status != 201) continue;
    std::lock_guard lock(b.mutex);
    b.acked_ids.push_back(str(r.json(), "id"));
    ++b.acknowledged;
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(acknowledged_creations_survive_sigkill) {
  temp_dir dir;
  const std::string data = dir.path + "/data";
  server_process server(data);
  burst b;
  std::vector<std::thread> clients;
  for (int t = 0; t < client_threads; ++t)
    clients.emplace_back([&] { create_until_gone(server, b); });
  const auto deadline = steady::now() + std::chrono::seconds(120);
  while (b.acknowledged < kill_after_acks && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server.kill();
  for (auto& t : clients) t.join();
  BOOST_REQUIRE_GE(b.acknowledged.load(), kill_after_acks);
  BOOST_TEST_MESSAGE("acknowledged before SIGKILL: " << b.acknowledged << " of " << b.next.load()
                                                     << " attempted");

  server.start();
  auto client_owner = std::make_unique<api>(server);
  api& client = *client_owner;
  // The read models rebuild from the log after restart; give them a bounded time to catch up.
  std::map<std::string, int> statuses;
  const auto catch_up = steady::now() + std::chrono::seconds(60);
  for (const auto& id : b.acked_ids) {
    api_response r;
    for (;;) {
      r = client.get("/api/v1/certificates/" + id);
      if (r.status != 404 || steady::now() > catch_up) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(r.status == 200, id << ": " << r.describe());
    if (r.status == 200) ++statuses[str(r.json(), "status")];
  }
  for (const auto& [status, n] : statuses)
    BOOST_TEST_MESSAGE("after restart: " << n << " " << status);

  // Give a resuming job processor a chance, then report what is still Pending.
  auto count = [&](const char* status) {
    auto r = client.get(std::string("/api/v1/certificates?per_page=1&status=") + status);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    return r.json()["total"].GetInt64();
  };
  std::int64_t pending = count("Pending");
  for (auto until = steady::now() + std::chrono::seconds(5);
       pending > 0 && steady::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pending = count("Pending");
  }
  BOOST_TEST_MESSAGE("still Pending 5 s after restart (known gap unless jobs resume): " << pending);

  // No serial twice, across every version of every certificate.
  std::map<std::string, std::string> serial_owner;
  std::int64_t versions = 0;
  for (int page = 1;; ++page) {
    auto list = client.get("/api/v1/certificates?per_page=500&page=" + std::to_string(page));
    BOOST_REQUIRE_MESSAGE(list.status == 200, list.describe());
    auto doc = list.json();
    if (doc["data"].GetArray().Empty()) break;
    for (const auto& c : doc["data"].GetArray()) {
      const std::string id = str(c, "id");
      auto vr = client.get("/api/v1/certificates/" + id + "/versions?per_page=500");
      BOOST_REQUIRE_MESSAGE(vr.status == 200, vr.describe());
      for (const auto& v : vr.json()["data"].GetArray()) {
        ++versions;
        auto [it, fresh] = serial_owner.emplace(str(v, "serial_number"), id);
        BOOST_TEST(fresh,
                   "serial " << it->first << " of " << id << " also belongs to " << it->second);
      }
    }
  }
  BOOST_TEST_MESSAGE("versions after restart: " << versions
                                                << ", distinct serials: " << serial_owner.size());
  client_owner.reset();  // an idle keep-alive connection would hold the graceful stop
  BOOST_TEST(server.stop() == 0);

  auto audit = run_command(shell_quote(built_binary("tools/audit/certctl-audit")) +
                           " verify --store " + shell_quote("sqlite://" + data + "/certctl.db"));
  BOOST_TEST(audit.exit_code == 0, audit.out);
  BOOST_TEST_MESSAGE("certctl-audit: " << audit.out);
}
