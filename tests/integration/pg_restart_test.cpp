// Faults (docs/cluster.md, docs/fault-tests.md): PostgreSQL killed under load, and Kafka
// unreachable at start of a single node.
//
// The PostgreSQL case runs its own throwaway PostgreSQL with fsync on (tools/dev/test-postgres.sh
// on a private data dir and port: the shared test server must not be killed under the other
// tests), a certctl-server on it, and several clients creating certificates (client-chosen ids,
// an Idempotency-Key, repeated with the same key on 503 or a transport error). In each seeded
// trial PostgreSQL is killed with `pg_ctl stop -m immediate` (no checkpoint: the next start runs
// crash recovery from the WAL) at a random point of the load, and started again after a random
// outage. After each trial the server never died, every acknowledged certificate exists, became
// Active with one version, no serial exists twice, no job is left open, and certctl-audit
// verify passes on the log. CERTCTL_FAULT_TRIALS / CERTCTL_FAULT_SEED as in crash_test.
#define BOOST_TEST_MODULE integration_pg_restart
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "tests/integration/fault_support.hpp"

using namespace certctl::integration;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int default_trials = 3;
constexpr int client_threads = 6;
/// Random load before the kill and outage length (ms), then a fixed load after the restart.
constexpr int min_load_before_ms = 300, max_load_before_ms = 2000;
constexpr int min_outage_ms = 200, max_outage_ms = 2000;
constexpr auto load_after = std::chrono::milliseconds(1500);
/// A request still unacknowledged this long after its first attempt fails the test.
constexpr auto request_deadline = std::chrono::seconds(60);
constexpr auto recovery_deadline = std::chrono::seconds(60);

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct load_counters {
  std::atomic<bool> stop_new{false};
  std::atomic<int> unavailable{0};       ///< 503 answers (each repeated)
  std::atomic<int> transport_errors{0};  ///< no answer at all (each repeated)
  std::atomic<int> acked_after_up{0};    ///< sent and acknowledged after PostgreSQL was back
  std::atomic<int> phase{0};             ///< 0 before the kill, 1 down, 2 up again
};

/// One client: new certificates until told to stop; each one repeated with the same id and
/// Idempotency-Key until acknowledged (201, or 200 for a replay of a committed command).
void create_certificates(const server_process& server, creation_ledger& ledger, int trial,
                         load_counters& c) {
  auto client = server.client(admin_key);
  while (!c.stop_new) {
    const std::string id = "pgkill-" + std::to_string(trial) + "-" + std::to_string(ledger.next++);
    const auto deadline = steady::now() + request_deadline;
    for (;;) {
      const int phase_at_send = c.phase;
      auto r = client->Post("/api/v1/certificates", creation_headers(id), creation_body(id),
                            "application/json");
      if (r && (r->status == 201 || r->status == 200)) {
        std::lock_guard lock(ledger.mutex);
        ledger.acknowledged.insert(id);
        if (phase_at_send == 2) ++c.acked_after_up;
        break;
      }
      if (!r) {
        ++c.transport_errors;
      } else if (r->status == 503) {
        ++c.unavailable;
      } else {
        // Anything but "unavailable" is a real answer: the request is not repeated.
        std::lock_guard lock(ledger.mutex);
        ++ledger.other_statuses[r->status];
        BOOST_ERROR("request " << id << " answered " << r->status << ": " << r->body);
        break;
      }
      if (steady::now() > deadline) {
        BOOST_ERROR("request " << id << " still unacknowledged after " << request_deadline.count()
                               << " s");
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(postgres_killed_under_load_loses_no_acknowledged_write) {
  const fault_plan plan = fault_plan_from_env(default_trials);
  std::mt19937_64 rng(plan.seed);
  temp_dir dir;
  private_postgres pg(dir.path, /*durable=*/true);

  server_options o;
  // An issuance worker whose job.start or record_issued failed during the outage leaves its
  // job Pending (picked up again after the 1 s grace) or Running (failed as stuck after 5 s,
  // then retried): the outage delays those certificates, it loses none.
  o.extra_env = {{"CERTCTL_DATABASE_URL", pg.url()},
                 {"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "5"},
                 {"CERTCTL_JOB_FRESH_GRACE_SECONDS", "1"}};
  server_process server(dir.path + "/data", o);
  std::string last_ready;
  BOOST_REQUIRE_MESSAGE(wait_ready(server, std::chrono::seconds(60), last_ready),
                        "not ready: " << last_ready << "\n"
                                      << server.logs());

  creation_ledger ledger;
  int unavailable_total = 0, transport_total = 0;
  for (int trial = 1; trial <= plan.trials; ++trial) {
    BOOST_TEST_CONTEXT("trial " << trial << " of " << plan.trials << ", seed " << plan.seed) {
      const int before_ms =
          std::uniform_int_distribution<int>(min_load_before_ms, max_load_before_ms)(rng);
      const int outage_ms = std::uniform_int_distribution<int>(min_outage_ms, max_outage_ms)(rng);
      load_counters c;
      std::vector<std::thread> clients;
      for (int t = 0; t < client_threads; ++t)
        clients.emplace_back([&, trial] { create_certificates(server, ledger, trial, c); });
      std::this_thread::sleep_for(milliseconds(before_ms));
      const auto acked_before = [&] {
        std::lock_guard lock(ledger.mutex);
        return ledger.acknowledged.size();
      }();

      c.phase = 1;
      const auto down = steady::now();
      pg.stop_immediate();
      std::this_thread::sleep_for(milliseconds(outage_ms));
      pg.start();
      const auto up = steady::now();
      c.phase = 2;
      std::this_thread::sleep_for(load_after);
      c.stop_new = true;
      for (auto& t : clients) t.join();
      unavailable_total += c.unavailable;
      transport_total += c.transport_errors;

      BOOST_TEST(c.acked_after_up.load() > 0, "no write succeeded after PostgreSQL came back");
      BOOST_TEST(wait_ready(server, std::chrono::seconds(30), last_ready),
                 "not ready after the restart: " << last_ready);
      const int checked =
          check_exactly_once(server, ledger.acknowledged, recovery_deadline, pg.url());
      BOOST_TEST_MESSAGE("trial " << trial << ": PostgreSQL killed (-m immediate) after "
                                  << before_ms << " ms of load, down " << seconds_between(down, up)
                                  << " s; " << c.unavailable << " x 503, " << c.transport_errors
                                  << " transport errors; "
                                  << ledger.acknowledged.size() - acked_before
                                  << " acknowledged this trial, " << checked << " of "
                                  << ledger.acknowledged.size() << " certificates issued once");
      check_audit_chain(pg.url());
    }
  }
  BOOST_TEST(ledger.other_statuses.empty());
  BOOST_TEST_MESSAGE(
      plan.trials << " immediate PostgreSQL kills done; " << ledger.acknowledged.size()
                  << " acknowledged certificates checked; " << unavailable_total << " x 503 and "
                  << transport_total << " transport errors answered by repeating");

  // Still the same process, and it exits cleanly: a crash would show in the wait status.
  {
    api client(server);
    auto health = client.get("/health");
    BOOST_TEST(health.status == 200, health.describe());
  }  // an idle keep-alive connection would hold the graceful stop
  const int status = server.stop();
  BOOST_TEST(status == 0, "server exit status " << status << "\n" << server.logs());
  check_audit_chain(pg.url());
}

// A single node (no CERTCTL_CLUSTER_ENABLED) with an unreachable Kafka serves as usual: the
// relay is an optional publisher that catches up later, not a dependency of the write path.
BOOST_AUTO_TEST_CASE(single_node_with_unreachable_kafka_keeps_working) {
  temp_dir dir;
  server_options o;
  o.extra_env = {{"CERTCTL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"}};
  server_process server(dir.path + "/data", o);
  std::string last_ready;
  BOOST_TEST(wait_ready(server, std::chrono::seconds(30), last_ready), "not ready: " << last_ready);

  auto client_owner = std::make_unique<api>(server);
  api& client = *client_owner;
  auto r =
      client.post("/api/v1/certificates", certificate_body("nokafka", "nokafka.example.test", {}));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  const std::string id = str(r.json(), "id");
  auto doc = wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(30), r.position());
  BOOST_TEST(str(doc, "status") == "Active");
  client_owner.reset();
  const int status = server.stop();
  BOOST_TEST(status == 0, "server exit status " << status << "\n" << server.logs());
}
