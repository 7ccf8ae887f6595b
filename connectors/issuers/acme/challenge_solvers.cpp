#include "connectors/issuers/acme/challenge_solvers.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "infra/crypto/secure_file.hpp"

namespace certctl::connectors::acme {
namespace {

constexpr const char* challenge_prefix = "/.well-known/acme-challenge/";

class responder final : public http01_responder {
 public:
  responder() {
    server_.set_tcp_nodelay(true);
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    server_.set_read_timeout(5, 0);
    server_.set_write_timeout(5, 0);
    server_.Get(R"(/\.well-known/acme-challenge/([A-Za-z0-9_-]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu_);
                  auto it = tokens_.find(req.matches[1].str());
                  if (it == tokens_.end()) {
                    res.status = 404;
                    return;
                  }
                  res.set_content(it->second, "text/plain");
                });
  }
  ~responder() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  bool start(const std::string& address, int port) {
    if (!server_.bind_to_port(address.c_str(), port)) return false;
    port_ = port;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return true;
  }

  void add(const std::string& token, const std::string& key_authorization) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_[token] = key_authorization;
  }
  void remove(const std::string& token) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_.erase(token);
  }
  int port() const override { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, std::string> tokens_;
};

std::mutex responders_mu;
/// "<address>:<port>" -> its responder; kept for the process's life (a bound port that comes
/// and goes between orders would race other listeners for it).
std::map<std::string, std::shared_ptr<responder>>& responders() {
  static auto* m = new std::map<std::string, std::shared_ptr<responder>>();
  return *m;
}

}  // namespace

bool is_valid_token(const std::string& token) {
  if (token.empty() || token.size() > 256) return false;
  for (unsigned char c : token)
    if (!std::isalnum(c) && c != '-' && c != '_') return false;
  return true;
}

certctl::result<std::shared_ptr<http01_responder>, std::string> http01_responder::on(
    const std::string& address, int port) {
  const std::string key = address + ":" + std::to_string(port);
  std::lock_guard<std::mutex> lock(responders_mu);
  auto& slot = responders()[key];
  if (!slot) {
    auto r = std::make_shared<responder>();
    if (!r->start(address, port)) {
      responders().erase(key);
      return std::string("the HTTP-01 responder cannot listen on " + key);
    }
    slot = std::move(r);
  }
  return std::shared_ptr<http01_responder>(slot);
}

certctl::result<done, std::string> webroot_present(const std::string& webroot,
                                                   const std::string& token,
                                                   const std::string& key_authorization) {
  if (!is_valid_token(token)) return std::string("malformed challenge token");
  const std::string dir = webroot + challenge_prefix;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::string("cannot create " + dir + ": " + ec.message());
  if (auto w = crypto::write_file_atomic(dir + token, key_authorization, 0644); !w)
    return std::string("cannot write the challenge file in " + dir + ": " + w.error().message);
  return done{};
}

void webroot_cleanup(const std::string& webroot, const std::string& token) {
  if (!is_valid_token(token)) return;
  std::error_code ec;
  std::filesystem::remove(webroot + challenge_prefix + token, ec);
}

certctl::result<done, std::string> run_dns_hook(const std::string& script, const dns_hook_env& env,
                                                std::chrono::seconds timeout) {
  if (script.empty() || script.front() != '/')
    return std::string("DNS hook script must be an absolute path");
  if (::access(script.c_str(), X_OK) != 0)
    return std::string("DNS hook script " + script + " is not executable");
  std::vector<std::string> vars = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                   "CERTCTL_DNS_DOMAIN=" + env.domain,
                                   "CERTCTL_DNS_FQDN=" + env.fqdn, "CERTCTL_DNS_VALUE=" + env.value,
                                   "CERTCTL_DNS_TOKEN=" + env.token};
  std::vector<char*> envp;
  for (auto& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::string path = script;
  char* argv[] = {path.data(), nullptr};
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return std::string("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return std::string("fork failed");
  }
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::setpgid(0, 0);
    ::execve(argv[0], argv, envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string output;
  constexpr size_t output_cap = 64 * 1024;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    const ssize_t got = ::read(out[0], buf, sizeof buf);
    if (got <= 0) break;  // every writer closed: the script (and its children) ended
    if (output.size() < output_cap)
      output.append(buf, static_cast<size_t>(std::min<ssize_t>(
                             got, static_cast<ssize_t>(output_cap - output.size()))));
  }
  ::close(out[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string tail = output.size() > 500 ? output.substr(output.size() - 500) : output;
  if (timed_out)
    return std::string("DNS hook " + script + " timed out after " +
                       std::to_string(timeout.count()) + " s");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return std::string("DNS hook " + script + " failed (status " +
                       std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "): " + tail);
  return done{};
}

}  // namespace certctl::connectors::acme
