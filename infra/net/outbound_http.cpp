#include "infra/net/outbound_http.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace certctl::net {
namespace {

using steady = std::chrono::steady_clock;

outbound_error fail(outbound_errc c, std::string detail) {
  return {c, std::move(detail)};
}

bool has_ctl(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

/// Reads from a socket into a buffer, never more than `cap` bytes in total, each wait
/// bounded by the exchange's deadline.
class reader {
 public:
  reader(int fd, steady::time_point deadline, std::string peer)
      : fd_(fd), deadline_(deadline), peer_(std::move(peer)) {}

  /// Appends up to `cap - buf.size()` more bytes; false with `err` on timeout or error,
  /// true with eof_ set when the peer closed.
  bool more(std::string& buf, std::size_t cap, outbound_error& err) {
    if (buf.size() >= cap) {
      err = fail(outbound_errc::too_large, peer_ + ": response larger than the cap");
      return false;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - steady::now()).count();
    pollfd p{fd_, POLLIN, 0};
    const int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
    if (ready == 0) {
      err = fail(outbound_errc::timeout, peer_ + ": no complete response in time");
      return false;
    }
    if (ready < 0) {
      err = fail(outbound_errc::io_error, peer_ + ": poll: " + std::strerror(errno));
      return false;
    }
    char chunk[4096];
    const std::size_t want = std::min(sizeof chunk, cap - buf.size());
    const ssize_t n = ::recv(fd_, chunk, want, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      err = fail(outbound_errc::io_error, peer_ + ": recv: " + std::strerror(errno));
      return false;
    }
    if (n == 0) eof_ = true;
    buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  bool eof() const { return eof_; }

 private:
  int fd_;
  steady::time_point deadline_;
  std::string peer_;
  bool eof_ = false;
};

bool send_all(int fd, const std::string& data, steady::time_point deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (steady::now() >= deadline) return false;
    // MSG_NOSIGNAL: a peer that hangs up must not raise SIGPIPE in the server.
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

result<std::string, outbound_error> http_request_bytes(const http_get_request& req,
                                                       int default_port) {
  if (req.path.empty() || req.path.front() != '/' || has_ctl(req.path) ||
      has_ctl(req.host_header) || req.path.find(' ') != std::string::npos)
    return fail(outbound_errc::invalid_request, "invalid request line or Host header");
  for (const auto& [k, v] : req.headers) {
    if (has_ctl(k) || has_ctl(v) || k.find(':') != std::string::npos)
      return fail(outbound_errc::invalid_request, "invalid header '" + k + "'");
  }
  std::string host_header = req.host_header;
  if (host_header.empty()) {
    // An IPv6 literal needs its brackets in a Host header (RFC 7230 §5.4).
    const bool bare_v6 = req.host.find(':') != std::string::npos && req.host.front() != '[';
    host_header = (bare_v6 ? "[" + req.host + "]" : req.host) +
                  (req.port == default_port ? "" : ":" + std::to_string(req.port));
  }
  if (req.method.empty() ||
      req.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return fail(outbound_errc::invalid_request, "invalid method '" + req.method + "'");
  std::string request = req.method + " " + req.path + " HTTP/1.1\r\nHost: " + host_header +
                        "\r\nConnection: close\r\nAccept: */*\r\nUser-Agent: certctl\r\n";
  for (const auto& [k, v] : req.headers) request += k + ": " + v + "\r\n";
  if (req.method != "GET" || !req.body.empty())
    request += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  request += "\r\n";
  request += req.body;
  return request;
}

result<http_get_response, outbound_error> http_get(const outbound_guard& guard,
                                                   const http_get_request& req,
                                                   const outbound_limits& limits) {
  auto bytes = http_request_bytes(req, 80);
  if (!bytes) return bytes.error();
  const std::string& request = *bytes;
  auto conn = guard.connect(req.host, req.port, limits);
  if (!conn) return conn.error();
  const auto deadline = steady::now() + limits.io_timeout;
  const std::string peer = to_string(conn->peer()) + ":" + std::to_string(req.port);
  if (!send_all(conn->fd(), request, deadline))
    return fail(outbound_errc::io_error, peer + ": cannot send the request");

  reader in(conn->fd(), deadline, peer);
  outbound_error err;
  std::string raw;
  const std::size_t raw_cap = max_raw_response_bytes(limits.max_response_bytes);
  for (;;) {
    auto parsed = parse_http_response(raw, in.eof(), limits.max_response_bytes);
    if (parsed.status == http_parse_status::complete) return std::move(parsed.response);
    if (parsed.status == http_parse_status::failed)
      return fail(parsed.error, peer + ": " + parsed.why);
    if (!in.more(raw, raw_cap, err)) return err;
  }
}

}  // namespace certctl::net
