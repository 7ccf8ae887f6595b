#include "gateways/pki/http1_parser.hpp"

#include <cstdint>
#include <string>

namespace certctl::gateways::pki {
namespace {

/// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

/// True when the comma-separated `value` lists `token` (case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

parse_result fail(parse_result r, int status) {
  r.status = parse_status::error;
  r.error_status = status;
  r.keep_alive = false;
  return r;
}

/// The next line of `buf` from `pos` (without CRLF or LF); npos in `next` when no line end
/// is in the buffer yet.
std::string_view next_line(std::string_view buf, size_t pos, size_t& next) {
  const auto lf = buf.find('\n', pos);
  if (lf == std::string_view::npos) {
    next = std::string_view::npos;
    return {};
  }
  next = lf + 1;
  size_t end = lf;
  if (end > pos && buf[end - 1] == '\r') --end;
  return buf.substr(pos, end - pos);
}

bool parse_target(std::string_view target, http::raw_request& req) {
  if (target.empty() || target.front() != '/') return false;  // origin-form only
  const auto q = target.find('?');
  if (!percent_decode(target.substr(0, q), req.path)) return false;
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), key)) return false;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value)) return false;
    if (!key.empty()) req.query.emplace(std::move(key), std::move(value));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return true;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= in.size()) return false;  // '%' needs two hex digits after it
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return false;
    out.push_back(decoded);
    i += 2;
  }
  return true;
}

parse_result parse_request(std::string_view buf, const http1_limits& limits) {
  parse_result r;
  // RFC 9112 §2.2: empty lines before the request line are ignored (a client's stray CRLF
  // after a previous body); bounded like the request line.
  size_t start = 0;
  while (start < buf.size() && (buf[start] == '\r' || buf[start] == '\n')) {
    ++start;
    if (start > 4) return fail(std::move(r), 400);
  }
  size_t pos = 0;
  const std::string_view line = next_line(buf, start, pos);
  if (pos == std::string_view::npos) {
    if (buf.size() - start >= limits.max_request_line) return fail(std::move(r), 414);
    return r;
  }
  if (pos - start > limits.max_request_line) return fail(std::move(r), 414);

  // Request line: method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(std::move(r), 400);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (char c : method)
    if (!is_tchar(c)) return fail(std::move(r), 400);
  r.request.method = std::string(method);
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return fail(std::move(r), 400);
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.')
    return fail(std::move(r), 400);
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return fail(std::move(r), 505);
  const bool http10 = version[7] == '0';
  if (!parse_target(target, r.request)) return fail(std::move(r), 400);

  // Header fields up to the empty line.
  const size_t headers_start = pos;
  bool have_length = false;
  std::uint64_t length = 0;
  bool close = false, keep_alive_asked = false;
  for (;;) {
    size_t next = 0;
    const std::string_view h = next_line(buf, pos, next);
    if (next == std::string_view::npos) {
      if (buf.size() - headers_start > limits.max_header_bytes) return fail(std::move(r), 431);
      return r;  // incomplete
    }
    if (next - headers_start > limits.max_header_bytes) return fail(std::move(r), 431);
    pos = next;
    if (h.empty()) break;
    if (r.request.headers.size() >= limits.max_headers) return fail(std::move(r), 431);
    if (h.front() == ' ' || h.front() == '\t') return fail(std::move(r), 400);  // obs-fold
    const auto colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(std::move(r), 400);
    const std::string_view name = h.substr(0, colon);
    for (char c : name)
      if (!is_tchar(c)) return fail(std::move(r), 400);
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return fail(std::move(r), 400);
    }
    if (iequals(name, "Transfer-Encoding")) return fail(std::move(r), 501);
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 18) return fail(std::move(r), value.empty() ? 400 : 413);
      std::uint64_t v = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return fail(std::move(r), 400);
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (have_length && v != length) return fail(std::move(r), 400);
      have_length = true;
      length = v;
    }
    if (iequals(name, "Connection")) {
      if (lists_token(value, "close")) close = true;
      if (lists_token(value, "keep-alive")) keep_alive_asked = true;
    }
    r.request.headers.emplace(std::string(name), std::string(value));
  }
  if (length > limits.max_body) return fail(std::move(r), 413);
  const size_t total = pos + static_cast<size_t>(length);
  if (buf.size() < total) {
    r.needed = total;
    r.request = http::raw_request{};
    return r;
  }
  r.request.body = std::string(buf.substr(pos, static_cast<size_t>(length)));
  r.consumed = total;
  r.status = parse_status::complete;
  r.keep_alive = http10 ? keep_alive_asked && !close : !close;
  return r;
}

}  // namespace certctl::gateways::pki
