// Disk full during appends, as seeded trials: the server's data dir (SQLite event store, read
// models, key store) sits on a private tmpfs of its own; under a load of certificate creations
// the test fills that file system to the last byte, holds it full for a random while, then
// frees the space. Checked after every trial: while full, requests are answered (201 for what
// still fitted, else 503, never a lost connection or another error) and the server stays up;
// after the space returns issuance resumes; every acknowledged request is applied exactly once,
// no serial twice, every job ends (an issuance that failed on the full disk is retried after
// the renewal policy's retry interval), SQLite's integrity_check is "ok", the server stops
// cleanly and certctl-audit verify passes.
//
// The tmpfs needs root (CAP_SYS_ADMIN): CI runs as root. Without it the test fails (never a
// silent pass). CERTCTL_FAULT_TRIALS / CERTCTL_FAULT_SEED as in crash_test
// (docs/fault-tests.md).
#define BOOST_TEST_MODULE integration_disk_full
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/integration/fault_support.hpp"

using namespace certctl::integration;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int default_trials = 3;
constexpr int client_threads = 6;
constexpr const char* tmpfs_size = "size=96m,mode=0700";
/// The file system fills after a random number of acknowledgements in this range and stays
/// full for a random time in the next.
constexpr int min_fill_acks = 5;
constexpr int max_fill_acks = 40;
constexpr int min_full_ms = 1000;
constexpr int max_full_ms = 3000;
/// Issuance has resumed once this many more requests were acknowledged after the space came
/// back.
constexpr int resumed_acks = 20;
constexpr auto settle_timeout = std::chrono::seconds(60);
/// An issuance whose key-store write hit the full disk fails as retryable and waits the
/// renewal policy's retry interval (the test sets the shortest allowed, 60 s; the default is
/// an hour), so its certificate becomes Active about a minute after the fault.
constexpr int retry_interval_seconds = 60;
constexpr auto recovery_deadline = std::chrono::seconds(120);

/// A tmpfs mounted on `path` for the life of the object.
class private_tmpfs {
 public:
  explicit private_tmpfs(std::string path) : path_(std::move(path)) {
    ::mkdir(path_.c_str(), 0700);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, tmpfs_size) != 0) {
      BOOST_FAIL("cannot mount a tmpfs on " << path_ << ": " << std::strerror(errno)
                                            << " (the disk-full test needs root; CI runs as "
                                               "root)");
    }
  }
  ~private_tmpfs() { ::umount2(path_.c_str(), MNT_DETACH); }
  private_tmpfs(const private_tmpfs&) = delete;
  private_tmpfs& operator=(const private_tmpfs&) = delete;

 private:
  std::string path_;
};

/// Takes every free byte of the file system holding `path` (a file that grows until ENOSPC)
/// and, while held, keeps taking whatever the server frees (a truncated WAL, a deleted temp
/// file), so the file system stays full until release().
class space_hog {
 public:
  explicit space_hog(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    BOOST_REQUIRE_MESSAGE(fd_ >= 0, "cannot create " << path_ << ": " << std::strerror(errno));
    take();
    keeper_ = std::thread([this] {
      while (!released_) {
        take();
        std::this_thread::sleep_for(milliseconds(5));
      }
    });
  }
  ~space_hog() { release(); }
  space_hog(const space_hog&) = delete;
  space_hog& operator=(const space_hog&) = delete;

  void release() {
    if (fd_ < 0) return;
    released_ = true;
    keeper_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
    fd_ = -1;
  }

 private:
  /// Writes until the file system refuses, in shrinking chunks down to one byte.
  void take() {
    static const std::string chunk(1 << 20, 'x');
    for (std::size_t size = chunk.size(); size > 0; size /= 16) {
      while (::write(fd_, chunk.data(), size) == static_cast<ssize_t>(size)) {
      }
    }
  }

  std::string path_;
  int fd_ = -1;
  std::atomic<bool> released_{false};
  std::thread keeper_;
};

struct trial_counts {
  std::atomic<int> acked{0};
  std::atomic<int> full_answers{0};  ///< 503 (or 507) while the disk was full
  std::atomic<int> lost{0};          ///< transport failures: the server did not answer
};

/// One client: new certificates until `stop`. A 503/507 repeats the same request (counted);
/// a request still unanswered at `stop` stays in flight and is settled afterwards.
void create_until_stopped(const server_process& server, creation_ledger& ledger, int trial,
                          std::atomic<bool>& stop, trial_counts& counts) {
  auto client = server.client(admin_key);
  while (!stop) {
    const std::string id = "full-" + std::to_string(trial) + "-" + std::to_string(ledger.next++);
    {
      std::lock_guard lock(ledger.mutex);
      ledger.in_flight.insert(id);
    }
    while (!stop) {
      auto r = client->Post("/api/v1/certificates", creation_headers(id), creation_body(id),
                            "application/json");
      if (!r) {
        ++counts.lost;
        std::this_thread::sleep_for(milliseconds(50));
        continue;
      }
      if (r->status == 503 || r->status == 507) {
        ++counts.full_answers;
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      std::lock_guard lock(ledger.mutex);
      ledger.in_flight.erase(id);
      if (r->status == 201 || r->status == 200) {
        ledger.acknowledged.insert(id);
        ++counts.acked;
      } else {
        ++ledger.other_statuses[r->status];
        BOOST_ERROR("request " << id << " answered " << r->status << ": " << r->body);
      }
      break;
    }
  }
}

/// Waits until `counts.acked` reaches `target`; false after `timeout`.
bool wait_acks(const trial_counts& counts, int target, std::chrono::seconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (counts.acked < target) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(disk_full_under_issuance_load_on_sqlite) {
  const fault_plan plan = fault_plan_from_env(default_trials);
  std::mt19937_64 rng(plan.seed);
  temp_dir dir;
  const std::string data = dir.path + "/small";
  private_tmpfs fs(data);
  const std::string db = data + "/certctl.db";

  server_options o;
  // As in crash_test: a job whose worker failed is retried soon, not after the defaults.
  o.extra_env = {{"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "5"},
                 {"CERTCTL_JOB_FRESH_GRACE_SECONDS", "1"}};
  server_process server(data, o);  // its log files lie beside the mount, not on it
  {
    api admin(server);
    // The policy the test's certificates name (api.hpp's certificate_body).
    auto policy = admin.post("/api/v1/renewal-policies",
                             R"({"id":"rp-default","name":"disk full","retry_interval_seconds":)" +
                                 std::to_string(retry_interval_seconds) + "}");
    BOOST_REQUIRE_MESSAGE(policy.status == 201, policy.describe());
  }

  creation_ledger ledger;
  int full_total = 0, in_flight_total = 0;
  for (int trial = 1; trial <= plan.trials; ++trial) {
    BOOST_TEST_CONTEXT("trial " << trial << " of " << plan.trials << ", seed " << plan.seed) {
      if (!server.running()) server.start();
      const int fill_acks = std::uniform_int_distribution<int>(min_fill_acks, max_fill_acks)(rng);
      const int full_ms = std::uniform_int_distribution<int>(min_full_ms, max_full_ms)(rng);

      std::atomic<bool> stop{false};
      trial_counts counts;
      std::vector<std::thread> clients;
      for (int t = 0; t < client_threads; ++t)
        clients.emplace_back(
            [&, trial] { create_until_stopped(server, ledger, trial, stop, counts); });
      BOOST_REQUIRE(wait_acks(counts, fill_acks, std::chrono::seconds(60)));

      int health_while_full = 0;
      {
        space_hog hog(data + "/hog");
        const auto until = steady::now() + milliseconds(full_ms);
        auto probe = server.client(admin_key);
        while (steady::now() < until) {
          auto h = probe->Get("/health");
          BOOST_TEST((h && h->status == 200), "GET /health while the disk is full");
          ++health_while_full;
          std::this_thread::sleep_for(milliseconds(100));
        }
        BOOST_TEST(server.running());
      }  // space back
      const int acked_at_release = counts.acked;
      const int full = counts.full_answers;
      BOOST_TEST(wait_acks(counts, acked_at_release + resumed_acks, std::chrono::seconds(60)),
                 "issuance did not resume after the space came back\n"
                     << server.logs());
      stop = true;
      for (auto& t : clients) t.join();
      BOOST_TEST(counts.lost == 0, counts.lost << " requests got no answer");
      BOOST_TEST(full > 0, "the full file system refused no request (nothing was tested)");
      full_total += full;
      in_flight_total += static_cast<int>(ledger.in_flight.size());

      const settled s = settle_in_flight(server, ledger, settle_timeout);
      const int checked = check_exactly_once(server, ledger.acknowledged, recovery_deadline);
      BOOST_TEST_MESSAGE("trial " << trial << ": full after " << fill_acks << " acks for "
                                  << full_ms << " ms: " << full << " answers 503, "
                                  << health_while_full << " health probes 200; "
                                  << s.replayed + s.applied << " in flight settled; " << checked
                                  << " of " << ledger.acknowledged.size()
                                  << " certificates issued once");
      BOOST_TEST(server.stop() == 0, "server exit status\n" << server.logs());
      auto integrity = run_command("sqlite3 " + shell_quote(db) + " 'PRAGMA integrity_check'");
      BOOST_TEST(integrity.out.rfind("ok", 0) == 0, "integrity_check: " << integrity.out);
      check_audit_chain("sqlite://" + db);
    }
  }
  BOOST_TEST(ledger.other_statuses.empty());
  BOOST_TEST_MESSAGE("sqlite: " << plan.trials << " disk-full trials, "
                                << ledger.acknowledged.size()
                                << " acknowledged certificates checked, " << full_total
                                << " requests answered 503 while full, " << in_flight_total
                                << " in flight at the end of the load");
}
