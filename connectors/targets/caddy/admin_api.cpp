#include "connectors/targets/caddy/admin_api.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "infra/net/outbound_http.hpp"
#include "infra/net/sigpipe_blocked.hpp"

namespace certctl::connectors::targets {
namespace {

using steady = std::chrono::steady_clock;

net::outbound_limits admin_limits() {
  net::outbound_limits l;
  l.connect_timeout = std::chrono::seconds(5);
  l.io_timeout = std::chrono::seconds(30);  // a reload provisions every app before answering
  l.max_response_bytes = 4 * 1024 * 1024;   // a large site's config
  return l;
}

std::string where(const admin_endpoint& at) {
  return "Caddy admin API " + at.host + ":" + std::to_string(at.port);
}

/// POST through the guard; the request head comes from net::http_request_bytes, so the same
/// CR/LF checks apply.
certctl::result<net::http_get_response, admin_api_error> post(const net::outbound_guard& guard,
                                                              const admin_endpoint& at,
                                                              const std::string& path,
                                                              const std::string& body) {
  net::http_get_request req;
  req.host = at.host;
  req.port = at.port;
  req.path = path;
  req.headers = {{"Content-Type", "application/json"},
                 {"Cache-Control", "must-revalidate"},
                 {"Content-Length", std::to_string(body.size())}};
  auto head = net::http_request_bytes(req, 80);
  if (!head) return admin_api_error{where(at) + ": " + head.error().log_line()};
  const std::string request = "POST" + head->substr(3) + body;  // "GET ..." -> "POST ..."
  const auto limits = admin_limits();
  const net::sigpipe_blocked no_sigpipe;
  auto conn = guard.connect(at.host, at.port, limits);
  if (!conn) return admin_api_error{where(at) + ": " + conn.error().log_line()};
  const auto deadline = steady::now() + limits.io_timeout;
  auto left_ms = [&] {
    return static_cast<int>(std::max<long>(
        0,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count()));
  };
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{conn->fd(), POLLOUT, 0};
    if (::poll(&p, 1, left_ms()) <= 0) return admin_api_error{where(at) + ": write timed out"};
    const ssize_t n =
        ::send(conn->fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return admin_api_error{where(at) + ": " + std::strerror(errno)};
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  bool eof = false;
  const std::size_t cap = net::max_raw_response_bytes(limits.max_response_bytes);
  for (;;) {
    auto parsed = net::parse_http_response(raw, eof, limits.max_response_bytes);
    if (parsed.status == net::http_parse_status::complete) return std::move(parsed.response);
    if (parsed.status == net::http_parse_status::failed || eof || raw.size() >= cap)
      return admin_api_error{where(at) + ": bad response: " + parsed.why};
    pollfd p{conn->fd(), POLLIN, 0};
    if (::poll(&p, 1, left_ms()) <= 0) return admin_api_error{where(at) + ": no answer in time"};
    char chunk[8192];
    const ssize_t n = ::recv(conn->fd(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return admin_api_error{where(at) + ": " + std::strerror(errno)};
    if (n == 0) eof = true;
    raw.append(chunk, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
  }
}

}  // namespace

certctl::result<admin_endpoint, admin_api_error> parse_admin_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return admin_api_error{"admin_api '" + url + "' must be http://host:port"};
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos || rest.find('@') != std::string::npos)
    return admin_api_error{"admin_api '" + url + "' must be http://host:port"};
  admin_endpoint at;
  std::string port;
  if (rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return admin_api_error{"admin_api '" + url + "': bad IPv6"};
    at.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return admin_api_error{"admin_api '" + url + "': bad port"};
      port = rest.substr(close + 2);
    }
  } else {
    const auto colon = rest.rfind(':');
    at.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      return admin_api_error{"admin_api '" + url + "': bad port"};
    at.port = std::stoi(port);
  }
  if (at.host.empty()) return admin_api_error{"admin_api '" + url + "': no host"};
  return at;
}

certctl::result<std::string, admin_api_error> caddy_current_config(const net::outbound_guard& guard,
                                                                   const admin_endpoint& at) {
  net::http_get_request req;
  req.host = at.host;
  req.port = at.port;
  req.path = "/config/";
  auto got = net::http_get(guard, req, admin_limits());
  if (!got) return admin_api_error{where(at) + ": " + got.error().log_line()};
  if (got->status != 200)
    return admin_api_error{where(at) + ": GET /config/ answered " + std::to_string(got->status) +
                           ": " + got->body.substr(0, 512)};
  return std::move(got->body);
}

certctl::result<done, admin_api_error> caddy_force_load(const net::outbound_guard& guard,
                                                        const admin_endpoint& at,
                                                        const std::string& config_json) {
  auto got = post(guard, at, "/load", config_json);
  if (!got) return got.error();
  if (got->status != 200)
    return admin_api_error{where(at) + ": POST /load answered " + std::to_string(got->status) +
                           ": " + got->body.substr(0, 2048)};
  return done{};
}

}  // namespace certctl::connectors::targets
