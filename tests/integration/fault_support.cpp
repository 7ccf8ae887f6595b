#include "tests/integration/fault_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

namespace certctl::integration {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Open Pending or Running jobs of any certificate.
std::int64_t open_jobs(api& client) {
  std::int64_t n = 0;
  for (const char* status : {"Pending", "Running"}) {
    auto r = client.get(std::string("/api/v1/jobs?per_page=1&status=") + status);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    n += r.json()["total"].GetInt64();
  }
  return n;
}

}  // namespace

fault_plan fault_plan_from_env(int default_trials) {
  fault_plan p;
  p.trials = default_trials;
  if (const char* v = std::getenv("CERTCTL_FAULT_TRIALS"); v && *v) p.trials = std::atoi(v);
  BOOST_REQUIRE_MESSAGE(p.trials >= 1, "CERTCTL_FAULT_TRIALS must be a positive integer");
  if (const char* v = std::getenv("CERTCTL_FAULT_SEED"); v && *v)
    p.seed = std::strtoull(v, nullptr, 10);
  else
    p.seed = std::random_device{}();
  BOOST_TEST_MESSAGE("fault trials: " << p.trials << ", seed " << p.seed
                                      << " (rerun with CERTCTL_FAULT_SEED=" << p.seed << ")");
  return p;
}

int free_loopback_port() {
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

std::string postgres_bin_dir() {
  auto r =
      testing::run_shell("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1", true);
  return trim(r.out);
}

private_postgres::private_postgres(const std::string& root, bool durable)
    : bin_(postgres_bin_dir()), dir_(root + "/pg"), durable_(durable), port_(free_loopback_port()) {
  // A missing PostgreSQL fails (never an early return that counts as a pass).
  BOOST_REQUIRE_MESSAGE(
      !bin_.empty(), "PostgreSQL server binaries not found (tools/setup.sh installs postgresql)");
  auto r = testing::run_shell(
      env() + " bash " +
          shell_quote(std::string(CERTCTL_SOURCE_DIR) + "/tools/dev/test-postgres.sh") + " start",
      true);
  if (r.exit_code != 0) stop_and_remove();  // the destructor does not run after a throw
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "test-postgres.sh start: " << r.out << r.err);
  url_ = trim(r.out);
  url_ = url_.substr(url_.rfind('\n') == std::string::npos ? 0 : url_.rfind('\n') + 1);
  BOOST_REQUIRE_MESSAGE(url_.rfind("postgresql://", 0) == 0, "no URL from the script: " + r.out);
  auto shown = testing::run_shell("runuser -u postgres -- " + shell_quote(bin_ + "/psql") +
                                  " -Atc 'show fsync' " + shell_quote(url_));
  BOOST_TEST_MESSAGE("private PostgreSQL at " << url_ << ", fsync " << trim(shown.out));
  if (durable_) BOOST_REQUIRE_MESSAGE(trim(shown.out) == "on", "fsync is " << shown.out);
}

private_postgres::~private_postgres() {
  stop_and_remove();
}

void private_postgres::stop_fast() {
  pg_ctl("-m fast -w stop");
}
void private_postgres::stop_immediate() {
  pg_ctl("-m immediate -w stop");
}
void private_postgres::start() {
  pg_ctl("-w -l " + shell_quote(dir_ + "/server.log") + " -o " + shell_quote(options()) + " start");
}

std::string private_postgres::log() const {
  return read_file(dir_ + "/server.log");
}

void private_postgres::stop_and_remove() {
  testing::run_shell(env() + " bash " +
                     shell_quote(std::string(CERTCTL_SOURCE_DIR) + "/tools/dev/test-postgres.sh") +
                     " stop");
}

std::string private_postgres::options() const {
  std::string o = "-c listen_addresses=127.0.0.1 -c port=" + std::to_string(port_) + " -k " + dir_ +
                  " -c max_connections=200";
  if (!durable_) o += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  return o;
}

std::string private_postgres::env() const {
  // Explicit either way: tools/test.sh exports CERTCTL_TEST_PG_FAST=1 for the shared server.
  return "CERTCTL_TEST_PG_DIR=" + shell_quote(dir_) +
         " CERTCTL_TEST_PG_PORT=" + std::to_string(port_) +
         " CERTCTL_TEST_PG_FAST=" + (durable_ ? "0" : "1");
}

void private_postgres::pg_ctl(const std::string& args) {
  auto r = testing::run_shell("runuser -u postgres -- " + shell_quote(bin_ + "/pg_ctl") + " -D " +
                              shell_quote(dir_ + "/data") + " " + args);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "pg_ctl " << args << ": " << r.out << "\n" << log());
}

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

std::string creation_body(const std::string& id) {
  std::string body = certificate_body(id, id + ".example.test", {});
  body.insert(1, R"("id":")" + id + R"(",)");
  return body;
}

httplib::Headers creation_headers(const std::string& id) {
  return {{"Idempotency-Key", "fault-" + id}};
}

settled settle_in_flight(const server_process& server, creation_ledger& ledger,
                         std::chrono::seconds timeout) {
  settled counts;
  auto client = server.client(admin_key);
  const auto deadline = steady::now() + timeout;
  std::set<std::string> pending;
  {
    std::lock_guard lock(ledger.mutex);
    pending.swap(ledger.in_flight);
  }
  for (const auto& id : pending) {
    for (;;) {
      auto r = client->Post("/api/v1/certificates", creation_headers(id), creation_body(id),
                            "application/json");
      if (r && (r->status == 201 || r->status == 200)) {
        ++(r->status == 200 ? counts.replayed : counts.applied);
        std::lock_guard lock(ledger.mutex);
        ledger.acknowledged.insert(id);
        break;
      }
      if (r && r->status != 503) {
        BOOST_ERROR("repeated request " << id << " answered " << r->status << ": " << r->body);
        break;
      }
      if (steady::now() > deadline) {
        BOOST_ERROR("repeated request " << id << " unanswered after " << timeout.count() << " s");
        break;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  return counts;
}

int check_exactly_once(const server_process& server, const std::set<std::string>& acknowledged,
                       std::chrono::seconds deadline, const std::string& postgres_url) {
  api client(server);
  const auto until = steady::now() + deadline;
  std::map<std::string, std::string> serial_owner;
  int checked = 0;
  for (const auto& id : acknowledged) {
    api_response r;
    for (;;) {
      r = client.get("/api/v1/certificates/" + id);
      if (r.status == 200 && str(r.json(), "status") == "Active") break;
      if (steady::now() > until) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    if (r.status != 200 || str(r.json(), "status") != "Active") {
      auto jobs = client.get("/api/v1/jobs?certificate_id=" + id);
      std::string log;
      if (!postgres_url.empty()) {
        const std::string sql =
            "select position, stream_id, type from events where stream_id like '%" + id +
            "%' or stream_id in (select stream_id from events where payload like '%\"" + id +
            "\"%') order by position";
        log = "\nevents in the log:\n" +
              testing::run_shell("runuser -u postgres -- " +
                                 shell_quote(postgres_bin_dir() + "/psql") + " -Atc " +
                                 shell_quote(sql) + " " + shell_quote(postgres_url))
                  .out;
      }
      BOOST_ERROR(id << " is not Active " << deadline.count() << " s after the fault: "
                     << r.describe() << "\njobs: " << jobs.describe() << log);
      continue;
    }
    if (issued_once_with_unique_serials(client, id, serial_owner)) ++checked;
  }
  auto total = client.get("/api/v1/certificates?per_page=1");
  BOOST_REQUIRE_MESSAGE(total.status == 200, total.describe());
  BOOST_TEST(total.json()["total"].GetInt64() == static_cast<std::int64_t>(acknowledged.size()),
             "certificates: " << total.json()["total"].GetInt64()
                              << ", acknowledged requests: " << acknowledged.size());
  std::int64_t open = open_jobs(client);
  while (open > 0 && steady::now() < until) {
    std::this_thread::sleep_for(milliseconds(200));
    open = open_jobs(client);
  }
  BOOST_TEST(open == 0,
             open << " jobs still Pending or Running " << deadline.count() << " s after the fault");
  if (open > 0 || checked < static_cast<int>(acknowledged.size())) {
    // What the server's loops said: whether the job timeout ran, and what failed.
    std::istringstream lines(server.logs());
    std::vector<std::string> tail;
    for (std::string line; std::getline(lines, line);)
      if (line.find("scheduler") != std::string::npos || line.find("rror") != std::string::npos)
        tail.push_back(line);
    if (tail.size() > 40) tail.erase(tail.begin(), tail.end() - 40);
    std::string excerpt;
    for (const auto& l : tail) excerpt += l + "\n";
    BOOST_TEST_MESSAGE("server log (scheduler and error lines, last 40):\n" << excerpt);
  }
  return checked;
}

void check_audit_chain(const std::string& store_url) {
  auto audit = run_command(shell_quote(built_binary("tools/audit/certctl-audit")) +
                           " verify --store " + shell_quote(store_url));
  BOOST_TEST(audit.exit_code == 0, "certctl-audit verify: " << audit.out);
}

}  // namespace certctl::integration
