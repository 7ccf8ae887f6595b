#include "connectors/targets/haproxy/runtime_api.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "infra/net/sigpipe_blocked.hpp"

namespace certctl::connectors::targets {
namespace {

constexpr std::size_t max_answer = 64 * 1024;
constexpr auto io_timeout = std::chrono::seconds(10);

/// The connected socket: a Unix socket for a path, else TCP through the guard.
certctl::result<int, std::string> open_socket(const net::outbound_guard& guard,
                                              const std::string& address,
                                              net::tcp_connection& tcp) {
  std::string where = address;
  if (where.compare(0, 5, "unix@") == 0) where = where.substr(5);
  if (!where.empty() && where.front() == '/') {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (where.size() >= sizeof a.sun_path) return std::string("runtime API socket path too long");
    std::memcpy(a.sun_path, where.c_str(), where.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket: ") + std::strerror(errno);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::string why = "runtime API " + where + ": " + std::strerror(errno);
      ::close(fd);
      return why;
    }
    return fd;
  }
  if (where.compare(0, 5, "ipv4@") == 0) where = where.substr(5);
  const auto colon = where.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= where.size() ||
      where.find_first_not_of("0123456789", colon + 1) != std::string::npos)
    return "runtime API address '" + address + "' is neither a socket path nor host:port";
  net::outbound_limits limits;
  limits.io_timeout = io_timeout;
  auto conn = guard.connect(where.substr(0, colon), std::stoi(where.substr(colon + 1)), limits);
  if (!conn) return "runtime API " + address + ": " + conn.error().log_line();
  tcp = std::move(*conn);
  return tcp.fd();
}

}  // namespace

certctl::result<std::string, runtime_api_error> runtime_api_command(
    const net::outbound_guard& guard, const std::string& address, const std::string& command) {
  const net::sigpipe_blocked no_sigpipe;
  net::tcp_connection tcp(-1, net::ip_address{}, 0);
  auto fd = open_socket(guard, address, tcp);
  if (!fd) return runtime_api_error{fd.error()};
  const bool owned = tcp.fd() < 0;  // a Unix socket is ours to close; TCP closes with `tcp`
  auto finish = [&](certctl::result<std::string, runtime_api_error> r) {
    if (owned) ::close(*fd);
    return r;
  };
  const auto deadline = std::chrono::steady_clock::now() + io_timeout;
  auto left_ms = [&] {
    return static_cast<int>(std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  deadline - std::chrono::steady_clock::now())
                                                  .count()));
  };
  std::size_t sent = 0;
  while (sent < command.size()) {
    pollfd p{*fd, POLLOUT, 0};
    if (::poll(&p, 1, left_ms()) <= 0)
      return finish(runtime_api_error{std::string("runtime API: write timed out")});
    const ssize_t n = ::send(*fd, command.data() + sent, command.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return finish(runtime_api_error{"runtime API: " + std::string(std::strerror(errno))});
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  for (;;) {
    pollfd p{*fd, POLLIN, 0};
    if (::poll(&p, 1, left_ms()) <= 0)
      return finish(runtime_api_error{std::string("runtime API: no answer in time")});
    char chunk[4096];
    const ssize_t n = ::recv(*fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return finish(runtime_api_error{"runtime API: " + std::string(std::strerror(errno))});
    if (n == 0) break;
    answer.append(chunk, static_cast<std::size_t>(n));
    if (answer.size() > max_answer)
      return finish(runtime_api_error{std::string("runtime API: answer too long")});
  }
  return finish(answer);
}

certctl::result<done, std::string> runtime_api_update_cert(const net::outbound_guard& guard,
                                                           const std::string& address,
                                                           const std::string& crt_path,
                                                           const std::string& pem) {
  std::string payload = pem;
  while (!payload.empty() && payload.back() == '\n') payload.pop_back();
  // The payload ends at the first empty line, so it must not contain one.
  if (payload.find("\n\n") != std::string::npos)
    return std::string("the combined PEM contains an empty line, which ends a runtime API payload");
  auto set =
      runtime_api_command(guard, address, "set ssl cert " + crt_path + " <<\n" + payload + "\n\n");
  if (!set) return set.error().message;
  if (set->find("Transaction") == std::string::npos) return "`set ssl cert` refused: " + *set;
  auto commit = runtime_api_command(guard, address, "commit ssl cert " + crt_path + "\n");
  if (!commit) return commit.error().message;
  if (commit->find("Success!") == std::string::npos) {
    (void)runtime_api_command(guard, address, "abort ssl cert " + crt_path + "\n");
    return "`commit ssl cert` refused: " + *commit;
  }
  return done{};
}

}  // namespace certctl::connectors::targets
