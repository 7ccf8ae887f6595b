#include "tests/connectors/targets/peer_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/subprocess.hpp"

extern char** environ;

namespace certctl::testing::targets {

namespace fs = std::filesystem;

scratch_dir::scratch_dir() {
  std::random_device rd;
  std::ostringstream s;
  s << std::hex << rd() << rd();
  path = (fs::temp_directory_path() / ("certctl-target-" + s.str())).string();
  fs::create_directories(path);
}

scratch_dir::~scratch_dir() {
  if (std::getenv("CERTCTL_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  fs::remove_all(path, ec);
}

daemon_process::daemon_process(const std::vector<std::string>& argv, const std::string& log_path)
    : log_path_(log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

daemon_process::~daemon_process() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
}

bool daemon_process::running() {
  int status = 0;
  return ::waitpid(pid_, &status, WNOHANG) == 0;
}

bool daemon_process::wait_for_port(int port, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (up) return true;
    // Startup of a separate process: nothing to be notified by but its port.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string daemon_process::log() const {
  return read_text(log_path_);
}

void write_text(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

std::string must(const std::string& command) {
  auto r = run_shell(command);
  if (r.exit_code != 0) throw std::runtime_error(command + " failed: " + r.out);
  return r.out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

test_certificate make_test_certificate(const std::string& dir, const std::string& cn) {
  const std::string ca_key = dir + "/" + cn + "-ca.key", ca = dir + "/" + cn + "-ca.pem";
  const std::string key = dir + "/" + cn + ".key", csr = dir + "/" + cn + ".csr";
  const std::string cert = dir + "/" + cn + ".pem";
  must(command_line(
      "openssl", {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", ca_key, "-out", ca, "-subj", "/CN=" + cn + " test CA", "-days", "2"}));
  must(command_line("openssl", {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn}));
  must(command_line("openssl",
                    {"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial",
                     "0x" + std::to_string(std::random_device{}()), "-days", "2", "-out", cert}));
  test_certificate t;
  t.cert_pem = read_text(cert);
  t.key_pem = read_text(key);
  t.chain_pem = read_text(ca);
  std::string serial =
      trim(must(command_line("openssl", {"x509", "-in", cert, "-noout", "-serial"})));
  t.serial_hex = serial.substr(serial.find('=') + 1);
  std::string fp = trim(
      must(command_line("openssl", {"x509", "-in", cert, "-noout", "-fingerprint", "-sha256"})));
  t.fingerprint_sha256 = fp.substr(fp.find('=') + 1);
  return t;
}

int require_programs(const std::vector<std::string>& programs) {
  std::string missing;
  for (const auto& p : programs) {
    const bool found =
        p.front() == '/' ? fs::exists(p) : run_shell("command -v " + shell_quote(p)).exit_code == 0;
    if (!found) missing += (missing.empty() ? "" : ", ") + p;
  }
  if (missing.empty()) return 0;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") {
    std::cerr << "FAIL: missing peer program(s) under CI=true: " << missing
              << " (tools/setup.sh installs them)\n";
    return 1;
  }
  std::cout << "SKIP: missing peer program(s): " << missing << "\n";
  return 77;
}

}  // namespace certctl::testing::targets
