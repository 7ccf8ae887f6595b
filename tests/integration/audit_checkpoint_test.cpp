// The server's audit checkpoints end to end: the loop signs the head with the key-store key,
// the checkpoints reach the event API and the file sink, and certctl-audit verify accepts them
// under the public key the server wrote to its data directory.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/server_process.hpp"

using namespace certctl::integration;
using certctl::testing::built_binary;
using certctl::testing::shell_quote;

namespace {

size_t line_count(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_checkpoints)

BOOST_AUTO_TEST_CASE(the_server_signs_checkpoints_that_certctl_audit_verifies) {
  temp_dir dir;
  const std::string file = dir.path + "/checkpoints.jsonl";
  server_options opts;
  opts.extra_env = {{"CERTCTL_AUDIT_CHECKPOINT_EVERY_EVENTS", "3"},
                    {"CERTCTL_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "0"},
                    {"CERTCTL_AUDIT_CHECKPOINT_FILE", file}};
  server_process server(dir.path + "/data", opts);
  api admin(server);
  for (int i = 0; i < 4; ++i)
    BOOST_REQUIRE(
        admin.post("/api/v1/teams", "{\"name\":\"team-" + std::to_string(i) + "\"}").status == 201);
  // The loop looks once a second; wait for its outcome, not for a time.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (line_count(file) == 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_REQUIRE(line_count(file) >= 1u);

  // Published like every event.
  auto page = admin.get("/api/v1/events?limit=1000");
  BOOST_REQUIRE(page.status == 200);
  BOOST_TEST(page.body.find("\"audit.checkpoint\"") != std::string::npos);
  BOOST_TEST(page.body.find("\"audit-checkpoints\"") != std::string::npos);
  server.stop();

  const std::string data = server.data_dir();
  BOOST_REQUIRE(std::filesystem::exists(data + "/audit-checkpoint.pub.pem"));
  auto verify = run_command(shell_quote(built_binary("tools/audit/certctl-audit")) +
                            " verify --store " + shell_quote("sqlite://" + data + "/certctl.db") +
                            " --checkpoint-file " + shell_quote(file) + " --public-key " +
                            shell_quote(data + "/audit-checkpoint.pub.pem"));
  BOOST_TEST(verify.exit_code == 0, verify.out);
  BOOST_TEST(verify.out.find("checkpoint(s) hold") != std::string::npos, verify.out);
}

BOOST_AUTO_TEST_SUITE_END()
