#include "tests/connectors/targets/target_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "connectors/builtin.hpp"
#include "connectors/config_schema.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/support/subprocess.hpp"

extern char** environ;

namespace certctl::connectors {
#define CERTCTL_CONNECTOR(fn) \
  certctl::result<done, std::string> fn(connector_registry&, const builtin_context&);
#include "connectors/builtin_connectors.def"
#undef CERTCTL_CONNECTOR
}  // namespace certctl::connectors

namespace certctl::testing::targets {
namespace {

struct named_registrar {
  const char* name;
  certctl::result<done, std::string> (*fn)(connectors::connector_registry&,
                                           const connectors::builtin_context&);
};

const named_registrar builtin_registrars[] = {
#define CERTCTL_CONNECTOR(fn) {#fn, &connectors::fn},
#include "connectors/builtin_connectors.def"
#undef CERTCTL_CONNECTOR
};

struct test_ca {
  std::string cert_pem;
  std::string key_pem;
};

const test_ca& shared_ca() {
  static std::once_flag once;
  static test_ca ca;
  std::call_once(once, [] {
    auto key = crypto::generate_key();
    if (!key) throw std::runtime_error(key.error().message);
    crypto::certificate_template t;
    t.subject.common_name = "certctl target test CA";
    t.is_ca = true;
    const std::int64_t now = std::time(nullptr);
    t.not_before = now - 3600;
    t.not_after = now + 86400;
    auto pem = crypto::self_sign(key->pem, t);
    if (!pem) throw std::runtime_error(pem.error().message);
    ca = test_ca{*pem, key->pem};
  });
  return ca;
}

}  // namespace

scratch_dir::scratch_dir() {
  char tmpl[] = "/tmp/certctl-targets-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
  ::chmod(path.c_str(), 0755);  // daemons that drop privileges must reach their files
}

scratch_dir::~scratch_dir() {
  if (std::getenv("CERTCTL_KEEP_TEST_DIRS") != nullptr) return;
  run_shell("rm -rf " + shell_quote(path));
}

test_certificate make_certificate(const std::string& cn) {
  const test_ca& ca = shared_ca();
  auto signer = crypto::certificate_signer::create(ca.cert_pem, ca.key_pem);
  if (!signer) throw std::runtime_error(signer.error().message);
  auto key = crypto::generate_key();
  if (!key) throw std::runtime_error(key.error().message);
  crypto::certificate_template t;
  t.public_key_der = key->public_key.spki_der;
  t.subject.common_name = cn;
  t.sans.dns = {cn};
  t.sans.ip = {"127.0.0.1"};
  const std::int64_t now = std::time(nullptr);
  t.not_before = now - 60;
  t.not_after = now + 86400;
  t.ext_key_usages = {crypto::ext_key_usage::server_auth};
  auto leaf = signer->sign_certificate(t);
  if (!leaf) throw std::runtime_error(leaf.error().message);
  return test_certificate{leaf->pem, ca.cert_pem, key->pem, leaf->fingerprint_sha256_hex,
                          leaf->serial_hex};
}

connectors::deployment_request request_for(const test_certificate& c) {
  connectors::deployment_request r;
  r.certificate_id = "mc-test";
  r.cert_pem = c.cert_pem;
  r.chain_pem = c.chain_pem;
  r.key_pem = c.key_pem;
  return r;
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

bool have_program(const std::string& program) {
  if (!program.empty() && program.front() == '/') return ::access(program.c_str(), X_OK) == 0;
  return run_shell("command -v " + shell_quote(program) + " >/dev/null 2>&1").exit_code == 0;
}

daemon_process::daemon_process(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

daemon_process::~daemon_process() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

bool daemon_process::running() const {
  return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0;
}

bool wait_for_port(int port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string served_fingerprint(int port, const std::string& server_name) {
  auto r = run_shell("openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                     " -servername " + shell_quote(server_name) +
                     " </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256");
  const auto eq = r.out.find('=');
  if (r.exit_code != 0 || eq == std::string::npos) return "";
  std::string hex;
  for (const char c : r.out.substr(eq + 1))
    if (std::isxdigit(static_cast<unsigned char>(c)))
      hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return hex;
}

std::string eventually_served(int port, const std::string& expected,
                              const std::string& server_name) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::string now = served_fingerprint(port, server_name);
    if (now == expected || std::chrono::steady_clock::now() >= deadline) return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

const net::outbound_guard& loopback_guard() {
  static const net::outbound_guard guard(*net::parse_cidr_list("127.0.0.1/32"));
  return guard;
}

std::shared_ptr<connectors::target> make_target(const std::string& type, const std::string& id,
                                                const std::string& config_json,
                                                const net::outbound_guard* guard) {
  connectors::connector_registry registry;
  connectors::builtin_context context;
  context.outbound = guard;
  // The target lines of builtin_connectors.def (GenericCA needs a server's CA, which a target
  // test has not got), so a target missing from that list fails here.
  for (const auto& r : builtin_registrars)
    if (std::string(r.name).find("_target") != std::string::npos)
      if (auto added = r.fn(registry, context); !added) throw std::runtime_error(added.error());
  const auto* reg = registry.find_target(type);
  if (reg == nullptr) throw std::runtime_error("no target type " + type);
  auto config = events::json_object::parse(config_json);
  if (!config) throw std::runtime_error("bad JSON in test config: " + config_json);
  if (auto ok = connectors::validate_config(reg->schema, *config); !ok)
    throw std::runtime_error("config refused: " + ok.error().message);
  auto t = reg->make(connectors::connector_settings{id, *config});
  if (!t) throw std::runtime_error("factory refused: " + t.error().message);
  return *t;
}

}  // namespace certctl::testing::targets
