#pragma once
/// Transport-neutral request/response types of the REST gateway. The router works on these, so it
/// can be tested without sockets and no httplib (hence no OpenSSL) type leaks into callers.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certctl::gateways::http {

/// A principal's role. viewer < operator < admin are ordered (each may do what the one before
/// may); `agent` stands apart: it may call only the agent operations (heartbeat, work polling,
/// CSR submission, certificate pickup, job status), which routes admit by name (see `access_rule`).
/// `auditor` stands apart too: it may read and export the audit trail (the audit routes and the
/// event log) and nothing else, which routes admit by name (`audit_readers()`).
/// `none` marks a public route (health, version); it is never a principal's role.
/// `operator_` carries an underscore only because `operator` is a C++ keyword; on the wire and in
/// configuration it is spelled "operator".
enum class role : std::uint8_t {
  none = 0,
  viewer = 1,
  operator_ = 2,
  admin = 3,
  agent = 4,
  auditor = 5
};

/// "viewer", "operator", "admin", "agent", "auditor" ("none" for role::none).
std::string_view to_string(role r);

/// Inverse of to_string for the five principal roles; nullopt for anything else (incl. "none").
std::optional<role> parse_role(std::string_view text);

/// A route's access rule: the set of roles it admits, or public. Routes declare the roles they
/// admit rather than a minimum level, because `agent` is not "between" two levels. A bare role
/// converts implicitly to "that role and the ordered roles above it" (role::none: public), so
/// `r.add("GET", p, role::viewer, h)` keeps meaning viewer, operator and admin; agent is
/// admitted only where a route names it, e.g.
/// `access_rule::at_least(role::operator_).plus(role::agent)`.
/// A scoped key (principal::scope) is checked inside the handler, after this rule.
class access_rule {
 public:
  /// Implicit on purpose: every existing `role::x` registration keeps its meaning.
  access_rule(role min)  // NOLINT(google-explicit-constructor)
      : mask_(min == role::none ? 0 : at_least(min).mask_), public_(min == role::none) {}

  static access_rule public_route() { return access_rule(role::none); }
  /// `min` and every ordered role above it; never agent.
  static access_rule at_least(role min);
  /// Exactly the listed roles; none listed admits nobody (it is not public).
  static access_rule only(std::initializer_list<role> roles);
  /// This rule plus `r`.
  access_rule plus(role r) const;

  bool is_public() const { return public_; }
  bool admits(role r) const { return r != role::none && (mask_ & bit(r)) != 0; }
  /// "public", "nobody" or the admitted roles, e.g. "operator|admin|agent" (for messages and
  /// listings).
  std::string describe() const;

  bool operator==(const access_rule& o) const { return mask_ == o.mask_ && public_ == o.public_; }
  bool operator!=(const access_rule& o) const { return !(*this == o); }

 private:
  access_rule() = default;
  static std::uint8_t bit(role r) { return static_cast<std::uint8_t>(1u << static_cast<int>(r)); }
  std::uint8_t mask_ = 0;
  bool public_ = false;  ///< a flag, not an empty mask: a rule admitting nobody is not public
};

/// What a scoped API key may act on: certificates whose profile, issuer, team and owner are in
/// the listed sets (an empty list leaves that field unrestricted). Checked by the handlers that
/// change or export certificates; reading follows the role.
struct key_scope {
  std::vector<std::string> profile_ids;
  std::vector<std::string> issuer_ids;
  std::vector<std::string> team_ids;
  std::vector<std::string> owner_ids;
  bool unrestricted() const {
    return profile_ids.empty() && issuer_ids.empty() && team_ids.empty() && owner_ids.empty();
  }
};

/// Who made an authenticated request. Empty name means anonymous (public route).
struct principal {
  std::string name;
  role level = role::none;
  std::shared_ptr<const key_scope> scope;  ///< null: unscoped
  /// Agent keys: the one agent whose operations the key may call ("" = bound to none, which
  /// admits no agent operation; see gateways/rest/auth_agent_binding.hpp).
  std::string agent_id = {};  // `= {}`: aggregate initialisers may leave it out
};

/// The audit routes' rule: viewer and above, and the auditor role.
inline access_rule audit_readers() {
  return access_rule::at_least(role::viewer).plus(role::auditor);
}

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
  /// The TLS client certificate chain as the peer sent it (DER, leaf first); empty when the
  /// client sent none or the server does not ask (server_config::request_client_certificates).
  /// Not verified by the transport: the handler checks it against its own trust anchors.
  std::vector<std::string> peer_certificates;
  /// RFC 9266 tls-exporter channel binding of the connection (32 bytes); empty unless the
  /// connection is TLS 1.3 and the server asks for client certificates.
  std::string tls_exporter;
};

/// Writes one piece of a streamed body; false once the client is gone (stop producing then).
using chunk_writer = std::function<bool(std::string_view chunk)>;

/// What a streamed body's producer answers after each call.
enum class stream_step {
  more,   ///< call again (also when nothing was written: the transport checks for shutdown)
  end,    ///< the body is complete; the response ends normally
  abort,  ///< close the connection without completing the body (client too slow, failure)
};

/// Produces a streamed body (Server-Sent Events, ...) on the request's worker thread, which it
/// holds for the stream's lifetime. The transport calls it until it answers end or abort, the
/// client goes away, or the server stops. The server checks for shutdown only between calls,
/// so each call must return within ~100 ms even when it has nothing to write. Whatever the
/// producer captures is released when the response is done with, on every path.
using body_producer = std::function<stream_step(const chunk_writer& write)>;

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
  /// Set for a streamed body (chunked transfer encoding, no Content-Length); `body` is then
  /// ignored. Only honoured on a 200 that is not an error.
  body_producer stream;

  /// Adds (does not replace) a response header.
  response& with_header(std::string name, std::string value);
};

/// 200 (or `status`) with an already serialised JSON body.
response json_response(std::string body, int status = 200);

/// 200 with a body of `content_type` that `producer` writes piece by piece.
response stream_response(std::string content_type, body_producer producer);

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

}  // namespace certctl::gateways::http
