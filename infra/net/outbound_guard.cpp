#include "infra/net/outbound_guard.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace certctl::net {
namespace {

using steady = std::chrono::steady_clock;

outbound_error fail(outbound_errc c, std::string detail) {
  return {c, std::move(detail)};
}

std::string where(const ip_address& a, int port) {
  return (a.v6 ? "[" + to_string(a) + "]" : to_string(a)) + ":" + std::to_string(port);
}

sockaddr_storage to_sockaddr(const ip_address& a, int port, socklen_t& len) {
  sockaddr_storage ss{};
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

/// One non-blocking connect bounded by `deadline`; the socket on success, -1 and `why`.
int connect_one(const ip_address& a, int port, steady::time_point deadline, std::string& why,
                bool& timed_out) {
  const int fd = ::socket(a.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  socklen_t len = 0;
  const auto ss = to_sockaddr(a, port, len);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len);
  if (rc != 0 && errno == EINPROGRESS) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    pollfd p{fd, POLLOUT, 0};
    const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    int err = 0;
    socklen_t err_len = sizeof err;
    if (ready == 0) {
      timed_out = true;
      why = "connect timed out";
    } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
      why = std::string("poll: ") + std::strerror(errno);
    } else if (err != 0) {
      why = std::strerror(err);
    } else {
      rc = 0;
    }
  } else if (rc != 0) {
    why = std::strerror(errno);
  }
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

const char* to_string(outbound_errc c) {
  switch (c) {
    case outbound_errc::invalid_request:
      return "invalid_request";
    case outbound_errc::resolve_failed:
      return "resolve_failed";
    case outbound_errc::refused_address:
      return "refused_address";
    case outbound_errc::connect_failed:
      return "connect_failed";
    case outbound_errc::timeout:
      return "timeout";
    case outbound_errc::too_large:
      return "too_large";
    case outbound_errc::protocol_error:
      return "protocol_error";
    case outbound_errc::io_error:
      return "io_error";
  }
  return "io_error";
}

const char* outbound_error::public_message() {
  return "the remote endpoint could not be reached or did not answer as expected";
}

std::string outbound_error::log_line() const {
  return std::string(to_string(code)) + ": " + detail;
}

tcp_connection::~tcp_connection() {
  if (fd_ >= 0) ::close(fd_);
}

tcp_connection::tcp_connection(tcp_connection&& o) noexcept
    : fd_(o.fd_), peer_(o.peer_), port_(o.port_) {
  o.fd_ = -1;
}

tcp_connection& tcp_connection::operator=(tcp_connection&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    peer_ = o.peer_;
    port_ = o.port_;
    o.fd_ = -1;
  }
  return *this;
}

bool outbound_guard::permits(const ip_address& a) const {
  if (classify(a) == address_class::public_unicast) return true;
  return std::any_of(allow_.begin(), allow_.end(), [&](const cidr& c) { return c.contains(a); });
}

result<std::vector<ip_address>, outbound_error> outbound_guard::resolve(
    const std::string& host_in) const {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > 253 || host.find('\0') != std::string::npos)
    return fail(outbound_errc::invalid_request, "invalid host '" + host_in + "'");
  std::vector<ip_address> found;
  ip_address literal;
  if (parse_ip(host, literal)) {
    found.push_back(literal);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list); rc != 0)
      return fail(outbound_errc::resolve_failed,
                  "cannot resolve " + host + ": " + ::gai_strerror(rc));
    for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
      ip_address a;
      if (ai->ai_family == AF_INET) {
        std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
      } else if (ai->ai_family == AF_INET6) {
        a.v6 = true;
        std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      if (std::find(found.begin(), found.end(), a) == found.end()) found.push_back(a);
    }
    ::freeaddrinfo(list);
    if (found.empty()) return fail(outbound_errc::resolve_failed, "no address for " + host);
  }
  // One refused address refuses the name: a name mixing a public and a private address is
  // either a misconfiguration or an attempt to get the private one tried.
  for (const auto& a : found) {
    if (!permits(a))
      return fail(outbound_errc::refused_address, host + " resolves to " + to_string(a) + " (" +
                                                      to_string(classify(a)) +
                                                      "), not in CERTCTL_OUTBOUND_ALLOW_CIDRS");
  }
  return found;
}

result<tcp_connection, outbound_error> outbound_guard::connect(
    const std::string& host, int port, const outbound_limits& limits) const {
  if (port < 1 || port > 65535)
    return fail(outbound_errc::invalid_request, "invalid port " + std::to_string(port));
  const auto deadline = steady::now() + limits.connect_timeout;
  auto addresses = resolve(host);
  if (!addresses) return addresses.error();
  std::string why;
  bool timed_out = false;
  for (const auto& a : *addresses) {
    if (steady::now() >= deadline) {
      timed_out = true;
      break;
    }
    std::string this_why;
    const int fd = connect_one(a, port, deadline, this_why, timed_out);
    if (fd < 0) {
      why += (why.empty() ? "" : "; ") + where(a, port) + ": " + this_why;
      continue;
    }
    // Blocking from here with every read and write bounded by io_timeout: TLS libraries can
    // use the socket as it is, and no call waits forever.
    ::fcntl(fd, F_SETFL, 0);
    const auto us = std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::microseconds>(limits.io_timeout).count());
    timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return tcp_connection(fd, a, port);
  }
  return fail(timed_out ? outbound_errc::timeout : outbound_errc::connect_failed,
              "connecting to " + host + " failed: " + (why.empty() ? "deadline passed" : why));
}

}  // namespace certctl::net
