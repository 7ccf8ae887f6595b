#include "gateways/pki/http1_response.hpp"

#include <string_view>

namespace certctl::gateways::pki {
namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

bool has_line_break(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

}  // namespace

std::string serialize_response(const http::response& r, bool head, bool close) {
  const bool no_body = r.status == 304 || r.status == 204 || (r.status >= 100 && r.status < 200);
  std::string s;
  s.reserve(160 + r.headers.size() * 48 + (head || no_body ? 0 : r.body.size()));
  s += "HTTP/1.1 ";
  s += std::to_string(r.status);
  s += ' ';
  s += reason(r.status);
  s += "\r\n";
  if (!no_body) {
    if (!has_line_break(r.content_type)) s += "Content-Type: " + r.content_type + "\r\n";
    s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    if (has_line_break(name) || has_line_break(value)) continue;  // never split a header
    s += name;
    s += ": ";
    s += value;
    s += "\r\n";
  }
  if (close) s += "Connection: close\r\n";
  s += "\r\n";
  if (!head && !no_body) s += r.body;
  return s;
}

}  // namespace certctl::gateways::pki
