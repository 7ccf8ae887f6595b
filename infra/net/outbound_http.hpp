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
};

struct http_get_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;  ///< de-chunked; at most max_response_bytes
};

/// Connects through `guard` and fetches `req`. too_large when the body (declared or read)
/// passes limits.max_response_bytes or the header section passes 16 KiB; timeout when the
/// connect or the whole exchange passes its limit.
result<http_get_response, outbound_error> http_get(const outbound_guard& guard,
                                                   const http_get_request& req,
                                                   const outbound_limits& limits);

}  // namespace certctl::net
