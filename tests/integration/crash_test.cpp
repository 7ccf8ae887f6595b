// Crash safety as seeded trials: SIGKILL the server at a random point of a burst of certificate
// creations, restart it on the same data, repeat every in-flight request (same id and
// Idempotency-Key) and check after each trial that every acknowledged request took effect
// exactly once, that no serial exists twice, that every issuance job ended and that
// certctl-audit verify passes. On SQLite, and on a private PostgreSQL with fsync on.
//
// CERTCTL_FAULT_TRIALS sets the trials per backend (default sized to the CI budget; the full
// run uses 20), CERTCTL_FAULT_SEED replays a run (docs/fault-tests.md).
#define BOOST_TEST_MODULE integration_crash
#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "tests/integration/fault_support.hpp"

using namespace certctl::integration;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int default_trials = 3;
constexpr int client_threads = 8;
/// The kill lands after a random number of acknowledgements in this range, plus a random delay
/// of up to `max_kill_delay`: some trials kill with a full queue, some mid-issuance.
constexpr int min_kill_acks = 1;
constexpr int max_kill_acks = 60;
constexpr int max_kill_delay_ms = 40;
constexpr auto settle_timeout = std::chrono::seconds(60);
/// Restart, job timeout (5 s) and job processor pick-up (1 s grace) fit well inside this.
constexpr auto recovery_deadline = std::chrono::seconds(60);

/// One client: new certificates until `stop`, or until the server is gone (its request then
/// stays in flight). A 503 repeats the same request.
void create_until_killed(const server_process& server, creation_ledger& ledger, int trial,
                         std::atomic<bool>& stop, std::atomic<int>& acked_this_trial) {
  auto client = server.client(admin_key);
  while (!stop) {
    const std::string id = "crash-" + std::to_string(trial) + "-" + std::to_string(ledger.next++);
    {
      std::lock_guard lock(ledger.mutex);
      ledger.in_flight.insert(id);
    }
    for (;;) {
      auto r = client->Post("/api/v1/certificates", creation_headers(id), creation_body(id),
                            "application/json");
      if (!r) return;  // the server died under us: unacknowledged, repeated after the restart
      if (r->status == 503) {
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      std::lock_guard lock(ledger.mutex);
      ledger.in_flight.erase(id);
      if (r->status == 201 || r->status == 200) {
        ledger.acknowledged.insert(id);
        ++acked_this_trial;
      } else {
        ++ledger.other_statuses[r->status];
        BOOST_ERROR("request " << id << " answered " << r->status << ": " << r->body);
      }
      break;
    }
  }
}

void run_crash_trials(const std::string& backend) {
  const fault_plan plan = fault_plan_from_env(default_trials);
  std::mt19937_64 rng(plan.seed);
  temp_dir dir;
  std::optional<private_postgres> pg;
  if (backend == "postgres") pg.emplace(dir.path, /*durable=*/true);
  const std::string data = dir.path + "/data";
  const std::string store = pg ? pg->url() : "sqlite://" + data + "/certctl.db";

  server_options o;
  // A job Running at the kill lost its worker: failed as stuck after 5 s, then retried. A job
  // Pending at the kill lost its hand-off: picked up by the job processor after 1 s.
  o.extra_env = {{"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "5"},
                 {"CERTCTL_JOB_FRESH_GRACE_SECONDS", "1"}};
  if (pg) o.extra_env["CERTCTL_DATABASE_URL"] = pg->url();
  server_process server(data, o);

  creation_ledger ledger;
  int in_flight_total = 0, replayed_total = 0, applied_total = 0;
  for (int trial = 1; trial <= plan.trials; ++trial) {
    BOOST_TEST_CONTEXT(backend << " trial " << trial << " of " << plan.trials << ", seed "
                               << plan.seed) {
      if (!server.running()) server.start();
      const int kill_acks = std::uniform_int_distribution<int>(min_kill_acks, max_kill_acks)(rng);
      const int kill_delay_ms = std::uniform_int_distribution<int>(0, max_kill_delay_ms)(rng);

      std::atomic<bool> stop{false};
      std::atomic<int> acked{0};
      std::vector<std::thread> clients;
      for (int t = 0; t < client_threads; ++t)
        clients.emplace_back(
            [&, trial] { create_until_killed(server, ledger, trial, stop, acked); });
      const auto deadline = steady::now() + std::chrono::seconds(60);
      while (acked < kill_acks && steady::now() < deadline)
        std::this_thread::sleep_for(milliseconds(1));
      std::this_thread::sleep_for(milliseconds(kill_delay_ms));
      server.kill();
      stop = true;
      for (auto& t : clients) t.join();
      BOOST_REQUIRE_GE(acked.load(), kill_acks);
      const int in_flight = static_cast<int>(ledger.in_flight.size());
      in_flight_total += in_flight;

      server.start();
      std::string last;
      BOOST_REQUIRE_MESSAGE(wait_ready(server, std::chrono::seconds(60), last),
                            "not ready after the restart: " << last << "\n"
                                                            << server.logs());
      const settled s = settle_in_flight(server, ledger, settle_timeout);
      replayed_total += s.replayed;
      applied_total += s.applied;
      const int checked = check_exactly_once(server, ledger.acknowledged, recovery_deadline);
      BOOST_TEST_MESSAGE(backend << " trial " << trial << ": SIGKILL after " << acked.load()
                                 << " acks (+" << kill_delay_ms << " ms); " << in_flight
                                 << " in flight: " << s.replayed << " had committed, " << s.applied
                                 << " applied on repeat; " << checked << " of "
                                 << ledger.acknowledged.size() << " certificates issued once");
      BOOST_TEST(server.stop() == 0, "server exit status\n" << server.logs());
      check_audit_chain(store);
    }
  }
  BOOST_TEST(ledger.other_statuses.empty());
  BOOST_TEST_MESSAGE(backend << ": " << plan.trials << " SIGKILLs done, "
                             << ledger.acknowledged.size() << " acknowledged certificates checked, "
                             << in_flight_total << " requests in flight at the kills ("
                             << replayed_total << " had committed, " << applied_total
                             << " applied on repeat)");
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigkill_under_issuance_load_on_sqlite) {
  run_crash_trials("sqlite");
}

BOOST_AUTO_TEST_CASE(sigkill_under_issuance_load_on_postgres_with_fsync) {
  run_crash_trials("postgres");
}
