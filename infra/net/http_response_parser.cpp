// The HTTP/1.x response parser behind http_get: bytes from an untrusted peer, so every size is
// checked before it is trusted and nothing is read past a cap.
#include <algorithm>
#include <cctype>

#include "infra/net/outbound_http.hpp"

namespace certctl::net {
namespace {

constexpr std::size_t max_header_bytes = 16 * 1024;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

/// Chunk framing costs a few bytes per chunk; allow for it without an unbounded raw stream.
std::size_t max_raw_chunked(std::size_t max_body) {
  return max_body + max_body / 2 + 1024;
}

http_parse_result failed(outbound_errc c, std::string why) {
  http_parse_result r;
  r.status = http_parse_status::failed;
  r.error = c;
  r.why = std::move(why);
  return r;
}

/// Decodes a chunked body; false when malformed, `complete` once the last chunk arrived.
bool dechunk(const std::string& raw, std::string& out, bool& complete) {
  std::size_t at = 0;
  complete = false;
  out.clear();
  for (;;) {
    const auto eol = raw.find("\r\n", at);
    if (eol == std::string::npos) return raw.size() - at <= 64;  // a size line is short
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
    if (raw.size() < at + size + 2) {
      out.append(raw, at, std::min(size, raw.size() - at));  // counts toward the cap early
      return true;
    }
    out.append(raw, at, size);
    if (raw.compare(at + size, 2, "\r\n") != 0) return false;
    at += size + 2;
  }
}

}  // namespace

std::size_t max_raw_response_bytes(std::size_t max_body) {
  return max_header_bytes + 4 + max_raw_chunked(max_body) + 1;
}

http_parse_result parse_http_response(const std::string& raw, bool eof, std::size_t max_body) {
  const auto header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    if (raw.size() > max_header_bytes)
      return failed(outbound_errc::too_large, "header section above 16 KiB");
    if (eof) return failed(outbound_errc::protocol_error, "closed before the headers ended");
    return {};
  }
  if (header_end > max_header_bytes)
    return failed(outbound_errc::too_large, "header section above 16 KiB");
  http_parse_result r;
  auto& res = r.response;
  const std::string head = raw.substr(0, header_end);
  const std::string rest = raw.substr(header_end + 4);
  const auto line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  const auto digit = [&](std::size_t i) {
    return std::isdigit(static_cast<unsigned char>(status_line[i])) != 0;
  };
  if (status_line.size() < 12 || status_line.compare(0, 7, "HTTP/1.") != 0 ||
      status_line[8] != ' ' || !digit(9) || !digit(10) || !digit(11) ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return failed(outbound_errc::protocol_error, "not an HTTP/1.x status line");
  res.status = std::stoi(status_line.substr(9, 3));
  std::size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    auto eol = head.find("\r\n", at);
    if (eol == std::string::npos) eol = head.size();
    const std::string line = head.substr(at, eol - at);
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      return failed(outbound_errc::protocol_error, "malformed header line");
    res.headers.emplace_back(lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
    at = eol + 2;
  }
  const auto header = [&](const char* name) -> const std::string* {
    for (const auto& [k, v] : res.headers)
      if (k == name) return &v;
    return nullptr;
  };

  const std::string* te = header("transfer-encoding");
  if (te != nullptr && lower(*te).find("chunked") != std::string::npos) {
    bool complete = false;
    if (!dechunk(rest, res.body, complete))
      return failed(outbound_errc::protocol_error, "malformed chunked body");
    if (res.body.size() > max_body || rest.size() > max_raw_chunked(max_body))
      return failed(outbound_errc::too_large, "chunked body above the cap");
    if (complete) {
      r.status = http_parse_status::complete;
      return r;
    }
    if (eof) return failed(outbound_errc::protocol_error, "chunked body cut short");
    res.body.clear();
    return r;
  }
  if (const std::string* cl = header("content-length")) {
    if (cl->empty() || cl->size() > 18 || cl->find_first_not_of("0123456789") != std::string::npos)
      return failed(outbound_errc::protocol_error, "invalid Content-Length");
    const std::size_t length = std::stoull(*cl);
    if (length > max_body)
      return failed(outbound_errc::too_large,
                    "Content-Length " + *cl + " above the cap of " + std::to_string(max_body));
    if (rest.size() < length) {
      if (eof) return failed(outbound_errc::protocol_error, "body cut short");
      res.headers.clear();
      return r;
    }
    res.body = rest.substr(0, length);
    r.status = http_parse_status::complete;
    return r;
  }
  // No length: the body runs to the close; one byte past the cap tells "at" from "above".
  if (rest.size() > max_body) return failed(outbound_errc::too_large, "body above the cap");
  if (!eof) {
    res.headers.clear();
    return r;
  }
  res.body = rest;
  r.status = http_parse_status::complete;
  return r;
}

}  // namespace certctl::net
