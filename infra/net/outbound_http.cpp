#include "infra/net/outbound_http.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace certctl::net {
namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t max_header_bytes = 16 * 1024;

outbound_error fail(outbound_errc c, std::string detail) {
  return {c, std::move(detail)};
}

bool has_ctl(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
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

/// Decodes a complete chunked body; false when `raw` is not one (yet).
bool dechunk(const std::string& raw, std::string& out, bool& complete) {
  std::size_t at = 0;
  complete = false;
  out.clear();
  for (;;) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string::npos) return true;  // need more
    const std::string line = raw.substr(at, eol - at);
    const std::string hex = trim(line.substr(0, line.find(';')));
    if (hex.empty() || hex.size() > 8 ||
        hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      return false;
    const std::size_t size = std::stoul(hex, nullptr, 16);
    at = eol + 2;
    if (size == 0) {
      complete = true;  // trailers, if any, are not needed
      return true;
    }
    if (raw.size() < at + size + 2) return true;  // need more
    out.append(raw, at, size);
    if (raw.compare(at + size, 2, "\r\n") != 0) return false;
    at += size + 2;
  }
}

}  // namespace

result<http_get_response, outbound_error> http_get(const outbound_guard& guard,
                                                   const http_get_request& req,
                                                   const outbound_limits& limits) {
  if (req.path.empty() || req.path.front() != '/' || has_ctl(req.path) ||
      has_ctl(req.host_header) || req.path.find(' ') != std::string::npos)
    return fail(outbound_errc::invalid_request, "invalid request line or Host header");
  for (const auto& [k, v] : req.headers) {
    if (has_ctl(k) || has_ctl(v) || k.find(':') != std::string::npos)
      return fail(outbound_errc::invalid_request, "invalid header '" + k + "'");
  }
  auto conn = guard.connect(req.host, req.port, limits);
  if (!conn) return conn.error();
  const auto deadline = steady::now() + limits.io_timeout;
  const std::string peer = to_string(conn->peer()) + ":" + std::to_string(req.port);

  std::string host_header = req.host_header;
  if (host_header.empty())
    host_header = req.host + (req.port == 80 ? "" : ":" + std::to_string(req.port));
  std::string request = "GET " + req.path + " HTTP/1.1\r\nHost: " + host_header +
                        "\r\nConnection: close\r\nAccept: */*\r\nUser-Agent: certctl\r\n";
  for (const auto& [k, v] : req.headers) request += k + ": " + v + "\r\n";
  request += "\r\n";
  if (!send_all(conn->fd(), request, deadline))
    return fail(outbound_errc::io_error, peer + ": cannot send the request");

  reader in(conn->fd(), deadline, peer);
  outbound_error err;
  std::string buf;
  std::size_t header_end = std::string::npos;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (in.eof()) return fail(outbound_errc::protocol_error, peer + ": closed before the headers");
    if (!in.more(buf, max_header_bytes, err)) return err;
  }
  http_get_response res;
  const std::string head = buf.substr(0, header_end);
  std::string rest = buf.substr(header_end + 4);
  auto line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 7, "HTTP/1.") != 0 ||
      status_line[8] != ' ' || !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
      !std::isdigit(static_cast<unsigned char>(status_line[11])))
    return fail(outbound_errc::protocol_error, peer + ": not an HTTP/1.x status line");
  res.status = std::stoi(status_line.substr(9, 3));
  std::size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    auto eol = head.find("\r\n", at);
    if (eol == std::string::npos) eol = head.size();
    const std::string line = head.substr(at, eol - at);
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      return fail(outbound_errc::protocol_error, peer + ": malformed header line");
    res.headers.emplace_back(lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
    at = eol + 2;
  }
  auto header = [&](const char* name) -> const std::string* {
    for (const auto& [k, v] : res.headers)
      if (k == name) return &v;
    return nullptr;
  };

  const std::size_t cap = limits.max_response_bytes;
  const std::string* te = header("transfer-encoding");
  if (te != nullptr && lower(*te).find("chunked") != std::string::npos) {
    // Chunk framing costs a few bytes per chunk; allow for it without letting the raw stream
    // grow without bound.
    const std::size_t raw_cap = cap + cap / 2 + 1024;
    for (;;) {
      bool complete = false;
      if (!dechunk(rest, res.body, complete))
        return fail(outbound_errc::protocol_error, peer + ": malformed chunked body");
      if (res.body.size() > cap)
        return fail(outbound_errc::too_large, peer + ": chunked body larger than the cap");
      if (complete) return res;
      if (in.eof()) return fail(outbound_errc::protocol_error, peer + ": chunked body cut short");
      if (!in.more(rest, raw_cap, err)) return err;
    }
  }
  if (const std::string* cl = header("content-length")) {
    if (cl->empty() || cl->size() > 18 || cl->find_first_not_of("0123456789") != std::string::npos)
      return fail(outbound_errc::protocol_error, peer + ": invalid Content-Length");
    const std::size_t length = std::stoull(*cl);
    if (length > cap)
      return fail(outbound_errc::too_large,
                  peer + ": Content-Length " + *cl + " above the cap of " + std::to_string(cap));
    while (rest.size() < length) {
      if (in.eof()) return fail(outbound_errc::protocol_error, peer + ": body cut short");
      if (!in.more(rest, length, err)) return err;
    }
    rest.resize(length);
    res.body = std::move(rest);
    return res;
  }
  // No length: the body runs to the close. Read one byte past the cap to tell "exactly at
  // the cap" from "more than the cap".
  if (rest.size() > cap) return fail(outbound_errc::too_large, peer + ": body larger than the cap");
  while (!in.eof()) {
    if (!in.more(rest, cap + 1, err)) return err;
    if (rest.size() > cap)
      return fail(outbound_errc::too_large, peer + ": body larger than the cap");
  }
  res.body = std::move(rest);
  return res;
}

}  // namespace certctl::net
