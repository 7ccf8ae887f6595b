// Faults (docs/cluster.md): a PostgreSQL restart under load, and Kafka unreachable at start of a
// single node.
//
// The PostgreSQL case runs its own throwaway PostgreSQL (tools/dev/test-postgres.sh on a private
// data dir and port: the shared test server must not be restarted under the other tests), a
// certctl-server on it, and several clients creating certificates (client-chosen ids, an
// Idempotency-Key, retried with the same key on 503 or a transport error). PostgreSQL is
// stopped mid-run and started again ~2 s later. Afterwards the server never died, /ready is
// 200 again, every acknowledged certificate exists and became Active with one version, no
// serial exists twice, and certctl-audit verify passes on the log.
#define BOOST_TEST_MODULE integration_pg_restart
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "tests/integration/api.hpp"

using namespace certctl::integration;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int client_threads = 6;
/// Load before the restart, and after PostgreSQL is back, before the clients stop.
constexpr auto load_before = std::chrono::seconds(3);
constexpr auto load_after = std::chrono::seconds(4);
constexpr auto outage = std::chrono::seconds(2);
/// A request still unacknowledged this long after its first attempt fails the test.
constexpr auto request_deadline = std::chrono::seconds(60);

double seconds_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// A loopback TCP port nobody listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  BOOST_REQUIRE(ok);
  return ntohs(a.sin_port);
}

/// The newest /usr/lib/postgresql/<v>/bin, as tools/dev/test-postgres.sh picks it; "" if none.
std::string postgres_bin_dir() {
  auto r = certctl::testing::run_shell(
      "ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1", true);
  return trim(r.out);
}

/// A PostgreSQL of this test only, started with tools/dev/test-postgres.sh on a private data dir
/// and port, and stopped/started with pg_ctl the way that script runs it (as `postgres`).
class private_postgres {
 public:
  private_postgres(std::string bin, const std::string& root)
      : bin_(std::move(bin)), dir_(root + "/pg"), port_(free_port()) {
    auto r = certctl::testing::run_shell(env() + " bash " + shell_quote(script()) + " start", true);
    if (r.exit_code != 0) stop_and_remove();  // the destructor does not run after a throw
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "test-postgres.sh start: " << r.out << r.err);
    url_ = trim(r.out);
    url_ = url_.substr(url_.rfind('\n') == std::string::npos ? 0 : url_.rfind('\n') + 1);
    BOOST_REQUIRE_MESSAGE(url_.rfind("postgresql://", 0) == 0, "no URL from the script: " + r.out);
  }
  ~private_postgres() { stop_and_remove(); }
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  /// pg_ctl stop -m fast: open sessions are terminated, new connections refused.
  void stop() { pg_ctl("-m fast -w stop"); }
  /// pg_ctl start with the script's options (data and port unchanged).
  void start() {
    pg_ctl("-w -l " + shell_quote(dir_ + "/server.log") + " -o " +
           shell_quote("-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) + " -k " +
                       dir_ +
                       " -c max_connections=200 -c fsync=off -c synchronous_commit=off"
                       " -c full_page_writes=off") +
           " start");
  }

  const std::string& url() const { return url_; }

 private:
  void stop_and_remove() {
    certctl::testing::run_shell(env() + " bash " + shell_quote(script()) + " stop");
  }
  std::string script() const {
    return std::string(CERTCTL_SOURCE_DIR) + "/tools/dev/test-postgres.sh";
  }
  std::string env() const {
    return "CERTCTL_TEST_PG_DIR=" + shell_quote(dir_) +
           " CERTCTL_TEST_PG_PORT=" + std::to_string(port_) + " CERTCTL_TEST_PG_FAST=1";
  }
  void pg_ctl(const std::string& args) {
    auto r = certctl::testing::run_shell("runuser -u postgres -- " + shell_quote(bin_ + "/pg_ctl") +
                                         " -D " + shell_quote(dir_ + "/data") + " " + args);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "pg_ctl " << args << ": " << r.out << "\n"
                                                      << read_file(dir_ + "/server.log"));
  }

  std::string bin_, dir_;
  int port_;
  std::string url_;
};

/// GET /ready until 200; false after `timeout`.
bool wait_ready(const server_process& server, std::chrono::seconds timeout, std::string& last) {
  auto c = server.client("");
  const auto deadline = steady::now() + timeout;
  for (;;) {
    auto r = c->Get("/ready");
    if (r && r->status == 200) return true;
    last = r ? std::to_string(r->status) + " " + r->body : "no answer";
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

struct load {
  std::atomic<int> next{0};
  std::atomic<bool> stop_new{false};
  std::atomic<int> acknowledged{0};
  std::atomic<int> unavailable{0};       ///< 503 answers (each retried)
  std::atomic<int> transport_errors{0};  ///< no answer at all (each retried)
  std::atomic<int> abandoned{0};         ///< requests never acknowledged by their deadline
  std::mutex mutex;
  std::set<std::string> acked_ids;
  std::vector<steady::time_point> ack_times;
  std::map<int, int> other_statuses;
};

/// One client: new certificates until told to stop; each one retried with the same id and
/// Idempotency-Key until acknowledged (201, or 200 for a replay of a committed command).
void create_certificates(const server_process& server, load& l) {
  auto client = server.client(admin_key);
  while (!l.stop_new) {
    const int i = l.next++;
    const std::string id = "mc-pg-" + std::to_string(i);
    const std::string name = "pgrestart-" + std::to_string(i);
    std::string body = certificate_body(name, name + ".example.test", {});
    body.insert(1, R"("id":")" + id + R"(",)");
    const httplib::Headers headers{{"Idempotency-Key", "pg-restart-" + id}};
    const auto deadline = steady::now() + request_deadline;
    for (;;) {
      auto r = client->Post("/api/v1/certificates", headers, body, "application/json");
      if (r && (r->status == 201 || r->status == 200)) {
        std::lock_guard lock(l.mutex);
        l.acked_ids.insert(id);
        l.ack_times.push_back(steady::now());
        ++l.acknowledged;
        break;
      }
      if (!r) {
        ++l.transport_errors;
      } else if (r->status == 503) {
        ++l.unavailable;
      } else {
        // Anything but "unavailable" is a real answer: the request is not retried.
        std::lock_guard lock(l.mutex);
        ++l.other_statuses[r->status];
        BOOST_ERROR("request " << id << " answered " << r->status << ": " << r->body);
        break;
      }
      if (steady::now() > deadline) {
        ++l.abandoned;
        BOOST_ERROR("request " << id << " still unacknowledged after " << request_deadline.count()
                               << " s");
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
}

/// Polls /ready in the background and remembers when it first failed and last recovered.
struct ready_watch {
  explicit ready_watch(const server_process& server)
      : thread([this, &server] {
          auto c = server.client("");
          c->set_read_timeout(5);
          while (!stop) {
            auto r = c->Get("/ready");
            const bool ok = r && r->status == 200;
            const auto now = steady::now();
            {
              std::lock_guard lock(mutex);
              if (!ok && !first_not_ready) {
                first_not_ready = now;
                not_ready_answer = r ? std::to_string(r->status) + " " + r->body : "no answer";
              }
              if (ok && first_not_ready && !ready_again) ready_again = now;
              if (!ok) ready_again.reset();
            }
            std::this_thread::sleep_for(milliseconds(50));
          }
        }) {}
  ~ready_watch() {
    stop = true;
    thread.join();
  }
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::optional<steady::time_point> first_not_ready, ready_again;
  std::string not_ready_answer;
  std::thread thread;
};

}  // namespace

BOOST_AUTO_TEST_CASE(postgres_restart_loses_no_acknowledged_write) {
  const std::string bin = postgres_bin_dir();
  // A missing PostgreSQL fails (never an early return that counts as a pass): the fault this
  // test exists for would otherwise go untested without anyone noticing.
  BOOST_REQUIRE_MESSAGE(!bin.empty(),
                        "PostgreSQL server binaries not found (tools/setup.sh installs postgresql)");
  temp_dir dir;
  private_postgres pg(bin, dir.path);
  BOOST_TEST_MESSAGE("private PostgreSQL at " << pg.url());

  server_options o;
  // An issuance worker whose job.start or record_issued failed during the outage leaves its
  // job Pending (reclaimed by the job loop after its 60 s grace) or Running (failed as stuck
  // after this timeout, then retried): the outage delays those certificates, it loses none.
  o.extra_env = {{"CERTCTL_DATABASE_URL", pg.url()}, {"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "10"}};
  server_process server(dir.path + "/data", o);
  std::string last_ready;
  BOOST_REQUIRE_MESSAGE(wait_ready(server, std::chrono::seconds(60), last_ready),
                        "not ready: " << last_ready << "\n"
                                      << server.logs());

  load l;
  std::vector<std::thread> clients;
  {
    ready_watch watch(server);
    for (int t = 0; t < client_threads; ++t)
      clients.emplace_back([&] { create_certificates(server, l); });
    std::this_thread::sleep_for(load_before);
    const int acked_before = l.acknowledged;
    BOOST_TEST_MESSAGE("acknowledged before the restart: " << acked_before);
    BOOST_TEST(acked_before > 0);

    const auto down = steady::now();
    pg.stop();
    std::this_thread::sleep_for(outage);
    const int unavailable_before_up = l.unavailable;
    const int transport_before_up = l.transport_errors;
    pg.start();
    const auto up = steady::now();
    BOOST_TEST_MESSAGE("PostgreSQL down for " << seconds_between(down, up) << " s");

    std::this_thread::sleep_for(load_after);
    l.stop_new = true;
    for (auto& t : clients) t.join();

    std::optional<steady::time_point> first_ack_after_up;
    int acked_after_up = 0;
    {
      std::lock_guard lock(l.mutex);
      for (auto t : l.ack_times) {
        if (t < up) continue;
        ++acked_after_up;
        if (!first_ack_after_up || t < *first_ack_after_up) first_ack_after_up = t;
      }
    }
    BOOST_TEST_MESSAGE("during the outage: " << unavailable_before_up << " x 503, "
                                             << transport_before_up << " transport errors; "
                                             << "in total " << l.unavailable << " x 503, "
                                             << l.transport_errors << " transport errors");
    BOOST_TEST(acked_after_up > 0, "no write succeeded after PostgreSQL came back");
    if (first_ack_after_up)
      BOOST_TEST_MESSAGE("first acknowledged write " << seconds_between(up, *first_ack_after_up)
                                                     << " s after PostgreSQL was back up; "
                                                     << acked_after_up << " acknowledged since");
    std::lock_guard lock(watch.mutex);
    if (watch.first_not_ready)
      BOOST_TEST_MESSAGE("/ready failed " << seconds_between(down, *watch.first_not_ready)
                                          << " s after the stop (" << watch.not_ready_answer
                                          << ")");
    else
      BOOST_TEST_MESSAGE("/ready never failed during the outage");
    if (watch.ready_again)
      // pg_ctl -w returns a little after PostgreSQL accepts connections: clamp at 0.
      BOOST_TEST_MESSAGE("/ready 200 again "
                         << std::max(0.0, seconds_between(up, *watch.ready_again))
                         << " s after PostgreSQL was back up");
  }
  BOOST_TEST(l.abandoned.load() == 0);
  BOOST_TEST(l.other_statuses.empty());
  BOOST_TEST_MESSAGE("acknowledged " << l.acknowledged << " of " << l.next.load()
                                     << " requested certificates");

  BOOST_TEST(wait_ready(server, std::chrono::seconds(30), last_ready),
             "not ready after the restart: " << last_ready);

  // Exactly once: every acknowledged certificate is Active with one version; no serial twice.
  auto client_owner = std::make_unique<api>(server);
  api& client = *client_owner;
  std::map<std::string, std::string> serial_owner;
  int issued_once = 0;
  const auto verify_started = steady::now();
  const auto active_deadline = verify_started + std::chrono::seconds(90);
  for (const auto& id : l.acked_ids) {
    api_response r;
    for (;;) {
      r = client.get("/api/v1/certificates/" + id);
      if (r.status == 200 && str(r.json(), "status") == "Active") break;
      if (steady::now() > active_deadline) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    BOOST_TEST(r.status == 200, id << ": " << r.describe());
    if (r.status != 200 || str(r.json(), "status") != "Active") {
      auto jobs = client.get("/api/v1/jobs?certificate_id=" + id);
      BOOST_ERROR(id << " is not Active: " << r.describe() << "\njobs: " << jobs.describe());
      continue;
    }
    if (issued_once_with_unique_serials(client, id, serial_owner)) ++issued_once;
  }
  BOOST_TEST_MESSAGE(issued_once << " certificates issued exactly once, " << serial_owner.size()
                                 << " distinct serials; all Active "
                                 << seconds_between(verify_started, steady::now())
                                 << " s after the load stopped");
  // Nothing beyond the acknowledged requests exists (every request was retried to an answer).
  auto total = client.get("/api/v1/certificates?per_page=1");
  BOOST_REQUIRE_MESSAGE(total.status == 200, total.describe());
  BOOST_TEST(total.json()["total"].GetInt64() == static_cast<std::int64_t>(l.acked_ids.size()));

  // Still the same process, and it exits cleanly: a crash would show in the wait status.
  auto health = client.get("/health");
  BOOST_TEST(health.status == 200, health.describe());
  client_owner.reset();  // an idle keep-alive connection would hold the graceful stop
  const int status = server.stop();
  BOOST_TEST(status == 0, "server exit status " << status << "\n" << server.logs());

  auto audit = run_command(shell_quote(built_binary("tools/audit/certctl-audit")) +
                           " verify --store " + shell_quote(pg.url()));
  BOOST_TEST(audit.exit_code == 0, audit.out);
  BOOST_TEST_MESSAGE("certctl-audit: " << audit.out);
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
