#pragma once
/// Writing an HTTP/1.1 response for the PKI listener (pki_listener.hpp).

#include <string>

#include "gateways/http/http_types.hpp"

namespace certctl::gateways::pki {

/// Writes `r` as an HTTP/1.1 response (status line, Content-Type, Content-Length, headers,
/// "Connection: close" when `close`); no body for HEAD or 304. A header whose name or value
/// holds a line break is left out, so a handler can never split the response.
std::string serialize_response(const http::response& r, bool head, bool close);

}  // namespace certctl::gateways::pki
