#include "tests/integration/server_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace certctl::integration {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

/// Startup includes creating the CA and the serving key on first start; generous for slow CI.
constexpr auto startup_timeout = std::chrono::seconds(60);

std::string random_suffix() {
  std::random_device rd;
  std::ostringstream s;
  s << std::hex << rd() << rd();
  return s.str();
}

/// The value after `prefix` on the first line that starts with it, if any.
std::optional<std::string> line_value(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return std::nullopt;
}

/// Non-blocking reap: true (and `status` set) when `pid` has exited.
bool reaped(pid_t pid, int& status) {
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

temp_dir::temp_dir() {
  path = (fs::temp_directory_path() / ("certctl-it-" + random_suffix())).string();
  fs::create_directories(path);
}

temp_dir::~temp_dir() {
  if (std::getenv("CERTCTL_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  fs::remove_all(path, ec);
}

server_process::server_process(std::string data_dir, server_options options)
    : data_dir_(std::move(data_dir)), options_(std::move(options)) {
  start();
}

server_process::~server_process() {
  if (pid_ > 0) stop();
}

void server_process::start() {
  BOOST_REQUIRE_MESSAGE(pid_ <= 0, "server already running");
  // A write to a connection the killed server left half-open must fail with EPIPE, not end
  // the test process (the crash test kills the server under load on purpose).
  std::signal(SIGPIPE, SIG_IGN);
  fs::create_directories(data_dir_);
  // Only the first start on a fresh dir without configured keys prints a generated key.
  const bool expect_key = options_.named_keys.empty() && !fs::exists(data_dir_ + "/api-keys.json");
  const std::string log_path = data_dir_ + "-server-" + std::to_string(++starts_) + ".log";

  // The parent's CERTCTL_* variables (e.g. a developer's own server config) must not leak in.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "CERTCTL_", 8) != 0) env.emplace_back(*e);
  env.push_back("CERTCTL_DATA_DIR=" + data_dir_);
  env.push_back("CERTCTL_SERVER_PORT=0");
  env.push_back("CERTCTL_KEYGEN_MODE=" + options_.keygen_mode);
  if (!options_.named_keys.empty()) env.push_back("CERTCTL_API_KEYS_NAMED=" + options_.named_keys);
  for (const auto& [k, v] : options_.extra_env) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const std::string binary = built_binary("tools/server/certctl-server");
  std::vector<char*> argv{const_cast<char*>(binary.c_str()), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  BOOST_REQUIRE_MESSAGE(rc == 0, "posix_spawn " + binary + ": " + std::strerror(rc));
  pid_ = pid;

  // The server prints its startup lines in one flush; poll the log file for them.
  const auto deadline = steady::now() + startup_timeout;
  for (;;) {
    const std::string out = read_file(log_path);
    auto listening = line_value(out, "listening on https://127.0.0.1:");
    auto bundle = line_value(out, "CA bundle: ");
    auto key = line_value(out, "admin API key (shown once, store it now): ");
    if (listening && bundle && (key || !expect_key)) {
      port_ = std::stoi(*listening);
      ca_bundle_ = *bundle;
      if (key) generated_admin_key_ = *key;
      return;
    }
    int status = 0;
    if (reaped(pid_, status)) {
      pid_ = -1;
      BOOST_FAIL("certctl-server exited during startup (status " + std::to_string(status) + "):\n" +
                 out);
    }
    if (steady::now() > deadline) {
      kill();
      BOOST_FAIL("certctl-server did not print its startup lines in time:\n" + out);
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

int server_process::stop(int grace_ms) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = steady::now() + milliseconds(grace_ms);
  while (!reaped(pid_, status)) {
    if (steady::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  pid_ = -1;
  return status;
}

void server_process::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string server_process::logs() const {
  std::string all;
  for (int i = 1; i <= starts_; ++i)
    all += read_file(data_dir_ + "-server-" + std::to_string(i) + ".log");
  return all;
}

std::unique_ptr<httplib::SSLClient> server_process::client(const std::string& api_key) const {
  auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
  c->set_ca_cert_path(ca_bundle_.c_str());
  c->enable_server_certificate_verification(true);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  c->set_connection_timeout(5);
  c->set_read_timeout(30);
  if (!api_key.empty()) c->set_bearer_token_auth(api_key.c_str());
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " + path);
}

}  // namespace certctl::integration
