// certctl-mock-kafka as a separate process, read with kcat: the path other processes (servers
// in cluster tests, benchmarks) take to the mock cluster.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <sstream>

#include "infra/kafka/relay.hpp"
#include "tests/infra/kafka/kafka_fixture.hpp"
#include "tests/support/subprocess.hpp"

extern char** environ;

using namespace certctl;
using namespace std::chrono_literals;

namespace {

/// The tool as a child process whose first stdout line is its bootstrap address.
struct mock_process {
  pid_t pid = -1;
  std::string bootstrap;

  explicit mock_process(const std::vector<std::string>& args) {
    int out[2];
    BOOST_REQUIRE(::pipe(out) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const std::string program = testing::built_binary("tools/mock_kafka/certctl-mock-kafka");
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    BOOST_REQUIRE_EQUAL(rc, 0);
    FILE* f = ::fdopen(out[0], "r");
    char line[1024] = {};
    const bool got = std::fgets(line, sizeof(line), f) != nullptr;
    std::fclose(f);
    BOOST_REQUIRE_MESSAGE(got, "certctl-mock-kafka printed nothing");
    std::string text(line);
    BOOST_REQUIRE_EQUAL(text.rfind("bootstrap=", 0), 0u);
    bootstrap = text.substr(10, text.find_last_not_of("\r\n") - 9);
  }

  /// SIGTERM, then the exit status.
  int stop() {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  ~mock_process() {
    if (pid > 0) stop();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mock_kafka_tool)

BOOST_AUTO_TEST_CASE(kcat_reads_what_the_relay_published_to_the_tools_cluster) {
  mock_process mock({"--brokers", "2", "--partitions", "3", "--topic", "certctl.events"});
  BOOST_CHECK_NE(mock.bootstrap.find("127.0.0.1:"), std::string::npos);
  auto s = store::open_event_store("memory:");
  BOOST_REQUIRE(s);
  auto db = sql::database::open("memory:");
  BOOST_REQUIRE(db);
  auto r =
      kafka::relay::create(**s, *db, testing::test_relay_options(mock.bootstrap, "certctl.events"));
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  BOOST_REQUIRE((*r)->start());
  testing::append_script(**s, 3, 12);
  BOOST_REQUIRE((*r)->wait_for_confirmed(12, 30s));
  (*r)->stop();

  // -e: exit at the end of every partition; one line per record: key, then headers.
  const auto kcat = testing::run_shell(
      testing::command_line("kcat", {"-C", "-b", mock.bootstrap, "-t", "certctl.events", "-o",
                                     "beginning", "-e", "-q", "-f", "%k %h\\n"}),
      true);
  BOOST_REQUIRE_MESSAGE(kcat.exit_code == 0, kcat.err);
  std::istringstream lines(kcat.out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) got.push_back(line);
  BOOST_REQUIRE_EQUAL(got.size(), 12u);
  for (const auto& e : testing::all_events(**s)) {
    const std::string id = "ce_id=" + e.event_id;
    const auto hit = std::find_if(got.begin(), got.end(), [&](const std::string& l) {
      return l.find(id) != std::string::npos;
    });
    BOOST_REQUIRE_MESSAGE(hit != got.end(), "kcat did not see " << e.event_id);
    BOOST_CHECK_EQUAL(hit->substr(0, hit->find(' ')), e.stream_id);
    BOOST_CHECK_NE(hit->find("ce_specversion=1.0"), std::string::npos);
    BOOST_CHECK_NE(hit->find("ce_type=" + e.type), std::string::npos);
    BOOST_CHECK_NE(hit->find("ce_certctlposition=" + std::to_string(e.position)),
                   std::string::npos);
  }
  BOOST_CHECK_EQUAL(mock.stop(), 0);
}

BOOST_AUTO_TEST_CASE(bad_flags_are_usage_errors) {
  const auto r = testing::run_shell(testing::command_line(
      testing::built_binary("tools/mock_kafka/certctl-mock-kafka"), {"--brokers", "zero"}));
  BOOST_CHECK_EQUAL(r.exit_code, 2);
  BOOST_CHECK_NE(r.out.find("--brokers"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
