#pragma once
/// Transport-neutral request/response types of the REST gateway. The router works on these, so it
/// can be tested without sockets and no httplib (hence no OpenSSL) type leaks into callers.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certctl::gateways::rest {

/// Access levels, ordered: a principal may call a route when its role >= the route's min role.
/// `none` marks a public route (health, version); it is never a principal's role.
/// `operator_` carries an underscore only because `operator` is a C++ keyword; on the wire and in
/// configuration it is spelled "operator".
enum class role : std::uint8_t { none = 0, viewer = 1, operator_ = 2, admin = 3 };

/// "viewer", "operator", "admin" ("none" for role::none).
std::string_view to_string(role r);

/// Inverse of to_string for the three principal roles; nullopt for anything else (incl. "none").
std::optional<role> parse_role(std::string_view text);

/// Who made an authenticated request. Empty name means anonymous (public route).
struct principal {
  std::string name;
  role level = role::none;
};

/// Case-insensitive ordering, because HTTP header names are case-insensitive.
struct ci_less {
  bool operator()(const std::string& a, const std::string& b) const;
};
using header_map = std::multimap<std::string, std::string, ci_less>;
using query_map = std::multimap<std::string, std::string>;

/// A request as it arrived, before routing (filled by http_server, or by tests directly).
struct raw_request {
  std::string method;  ///< upper case, e.g. "GET"
  std::string path;    ///< percent-decoded path without the query string
  query_map query;
  header_map headers;
  std::string body;
  std::string remote_addr;
  bool tls = false;  ///< arrived over HTTPS (adds HSTS to the response)
};

/// What a handler returns. Build it with the helpers below; the router adds request id, security
/// headers and renders `error` bodies as `{"error": ..., "request_id": ...}`.
struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set for error responses; the router turns it into the spec's ErrorResponse body, because
  /// only the router knows the request id.
  std::optional<std::string> error;

  /// Adds (does not replace) a response header.
  response& with_header(std::string name, std::string value);
};

/// 200 (or `status`) with an already serialised JSON body.
response json_response(std::string body, int status = 200);

/// An error response; the body `{"error","request_id"}` is rendered by the router.
response error_response(int status, std::string message);

/// A status plus a client-facing message: the single error type handlers and helpers return,
/// mapped to the wire by error_response().
struct api_error {
  int status = 400;
  std::string message;
};

inline response to_response(const api_error& e) {
  return error_response(e.status, e.message);
}

/// Standard reason phrase-like short text for our error statuses ("not found", ...).
std::string_view status_text(int status);

}  // namespace certctl::gateways::rest
