#pragma once
/// A plain-HTTP GET through the outbound guard (http-01 today; webhooks and connectors
/// later). HTTP/1.1 with "Connection: close", no redirects followed (a redirect is returned
/// as it is: following one would be a second, unchecked destination). The response is
/// read with the size cap enforced while reading: a peer sending more is cut off at the
/// cap, not buffered first. HTTPS is not offered yet.

#include <string>
#include <utility>
#include <vector>

#include "infra/net/outbound_guard.hpp"

namespace certctl::net {

struct http_get_request {
  std::string host;  ///< where to connect: a name or an IP literal, checked by the guard
  int port = 80;
  std::string path = "/";   ///< starts with '/'
  std::string host_header;  ///< "Host:" value; "" = host (with ":port" when not 80)
  std::vector<std::pair<std::string, std::string>> headers;
  /// "GET" unless a connector posts (step-ca, Vault, ACME JWS bodies, notifiers' JSON): then
  /// `body` is sent with its Content-Length; the caller names the Content-Type in `headers`.
  std::string method = "GET";
  std::string body;
};

struct http_get_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;  ///< de-chunked; at most max_response_bytes
};

/// Where parsing a received response stands.
enum class http_parse_status { need_more, complete, failed };

struct http_parse_result {
  http_parse_status status = http_parse_status::need_more;
  http_get_response response;  ///< when complete
  outbound_errc error =
      outbound_errc::protocol_error;  ///< when failed: too_large or protocol_error
  std::string why;                    ///< when failed, for the log
};

/// Parses the bytes an untrusted peer sent so far (`raw`; `eof`: it closed the connection).
/// Stateless: call again with more bytes while it answers need_more. Enforces the caps on
/// what is already there (header section 16 KiB, body `max_body`), so the caller never reads
/// more than max_raw_response_bytes. Declared untrusted-input parser: a fuzz target's entry.
http_parse_result parse_http_response(const std::string& raw, bool eof, std::size_t max_body);

/// The most raw bytes (headers, body, chunk framing) a response under `max_body` can need;
/// reading stops there.
std::size_t max_raw_response_bytes(std::size_t max_body);

/// The request head http_get sends for `req` ("Host:" omits the port when it is
/// `default_port`); invalid_request when the path, Host or a header could smuggle a line.
/// Shared with the HTTPS client (infra/crypto/https_client).
result<std::string, outbound_error> http_request_bytes(const http_get_request& req,
                                                       int default_port);

/// Connects through `guard` and fetches `req`. too_large when the body (declared or read)
/// passes limits.max_response_bytes or the header section passes 16 KiB; timeout when the
/// connect or the whole exchange passes its limit.
result<http_get_response, outbound_error> http_get(const outbound_guard& guard,
                                                   const http_get_request& req,
                                                   const outbound_limits& limits);

}  // namespace certctl::net
