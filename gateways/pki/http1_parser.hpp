#pragma once
/// A small, strict HTTP/1.1 request parser for the PKI listener (pki_listener.hpp): it reads
/// one request from the front of a connection's buffer, so pipelined requests are taken one
/// at a time and the bytes after a request stay for the next call.
///
/// Strict on purpose (RFC 9112): origin-form targets only, no obs-fold, no Transfer-Encoding
/// (OCSP clients send Content-Length; refusing TE rules out request smuggling), one
/// Content-Length, and every part bounded by `http1_limits` before it is buffered whole.
/// Bare LF line ends are accepted (RFC 9112 §2.2 allows it); a request line over the limit
/// is 414, headers over it 431, a body over it 413, anything malformed 400, a version
/// other than HTTP/1.0 or 1.1 505, a Transfer-Encoding 501.

#include <cstddef>
#include <string_view>

#include "gateways/http/http_types.hpp"

namespace certctl::gateways::pki {

struct http1_limits {
  std::size_t max_request_line = 8192;  ///< method, target and version with the line end
  std::size_t max_header_bytes = 8192;  ///< all header lines together
  std::size_t max_headers = 64;
  std::size_t max_body = 64 * 1024;  ///< OCSP requests are tiny; CRL and OCSP GETs have none
};

enum class parse_status {
  incomplete,  ///< more bytes are needed (see parse_result::needed)
  complete,    ///< `request` holds the first request of the buffer
  error,       ///< answer `error_status` and close the connection
};

struct parse_result {
  parse_status status = parse_status::incomplete;
  /// complete: bytes the request took from the front of the buffer.
  std::size_t consumed = 0;
  /// incomplete: the buffer size at which parsing can make progress (0: unknown, any new
  /// byte may complete the head); saves re-parsing the head for every piece of a body.
  std::size_t needed = 0;
  int error_status = 0;
  http::raw_request request;  ///< complete: filled; error: what was read (method, path)
  bool keep_alive = true;     ///< HTTP/1.1 unless "Connection: close"; 1.0 only if asked
};

/// Parses the request at the front of `buffer`. Never throws, never reads past `buffer`.
parse_result parse_request(std::string_view buffer, const http1_limits& limits);

/// Percent-decodes `in` ('+' stays '+': in a path it is a character, in the OCSP GET form a
/// base64 one); false on a bad escape or an encoded NUL.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace certctl::gateways::pki
