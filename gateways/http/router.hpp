#pragma once
/// The REST front door: matches a request to a route, authenticates it, enforces the route's
/// access rule (the roles it admits), honours X-Certctl-Wait-For-Position on reads, runs the
/// handler, and renders every error in the one wire shape `{"error": "...", "request_id": "..."}`.
/// It never throws.
///
///   request ─> request id ─> match path (404) ─> match method (405) ─> authenticate (401)
///          ─> authorise (403) ─> wait for position (400/503, reads only) ─> handler (500 on throw)
///          ─> security headers + X-Request-Id ─> request log hook
///
/// Register every route before the server starts; after that the router is read-only and shared
/// by all request threads.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateways/http/api_keys.hpp"
#include "gateways/http/http_types.hpp"
#include "gateways/http/position.hpp"

namespace certctl::gateways::http {

/// Everything a handler may know about its request.
struct request_context {
  const raw_request& raw;
  std::map<std::string, std::string> path_params;  ///< from {name} segments
  std::string request_id;
  principal who;  ///< empty name on public routes

  const std::string& method() const { return raw.method; }
  const std::string& path() const { return raw.path; }
  const std::string& body() const { return raw.body; }
  const std::string& remote_addr() const { return raw.remote_addr; }
  const query_map& query_params() const { return raw.query; }
  const header_map& headers() const { return raw.headers; }

  /// The {name} segment's value ("" when the pattern has no such parameter).
  const std::string& path_param(const std::string& name) const;
  /// First value of a query parameter.
  std::optional<std::string> query(const std::string& name) const;
  /// First value of a header (case-insensitive name).
  std::optional<std::string> header(const std::string& name) const;
};

using handler = std::function<response(request_context&)>;

/// outside_binding: the role admits the route, but the key is bound to less (an agent key on
/// another agent's operation; router_options::check_binding).
enum class auth_failure {
  missing_credentials,
  invalid_credentials,
  insufficient_role,
  outside_binding
};
std::string_view to_string(auth_failure f);

/// A failed authentication or an authorisation denial, for the audit trail.
struct auth_event {
  std::string principal;  ///< key name when the key was valid (denials), else empty
  std::string remote_addr;
  std::string method;
  std::string path;
  auth_failure reason = auth_failure::missing_credentials;
  std::string request_id;
};
using auth_observer = std::function<void(const auth_event&)>;

/// One line of the access log. Deliberately without headers or body: they carry credentials.
struct request_log_entry {
  std::string method;
  std::string path;
  int status = 0;
  std::chrono::microseconds duration{0};
  std::string request_id;
  std::string principal;
  std::string remote_addr;
  /// Internal detail of a 500 (exception text) for the server log; never sent to the client.
  std::string internal_error;
};
using request_logger = std::function<void(const request_log_entry&)>;

struct router_options {
  /// false = CERTCTL_AUTH_TYPE=none (behind an authenticating proxy): protected routes run as
  /// principal "anonymous" with role admin.
  bool auth_enabled = true;
  auth_observer on_auth_failure;
  request_logger on_request;
  /// Absent: X-Certctl-Wait-For-Position is validated but not waited for (single-node setups
  /// whose reads are always current).
  position_waiter wait_for_position;
  /// Keys managed through the API (gateways/rest/managed_keys.hpp), consulted beside the
  /// configured ones: the principal whose key `token` is, if any, unexpired and not revoked.
  std::function<std::optional<principal>(std::string_view token)> managed_keys;
  std::chrono::milliseconds max_position_wait{5000};
  /// After the role check: the answer for a principal whose key is bound to less than its role
  /// admits (gateways/rest/auth_agent_binding.hpp), or nullopt when it may go on. A refusal is
  /// reported as auth_failure::outside_binding. Absent: no binding is checked.
  std::function<std::optional<response>(const principal& who, const std::string& pattern,
                                        const std::map<std::string, std::string>& params)>
      check_binding;
};

class router {
 public:
  explicit router(key_store keys, router_options options = {});
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Registers `method` (GET, POST, PUT, PATCH, DELETE, ...) on `pattern`, e.g.
  /// "/api/v1/certificates/{id}/renew". A literal segment beats a {param} segment at the same
  /// position, so "/agents/retired" wins over "/agents/{id}". GET routes also answer HEAD.
  /// `rule` names the roles admitted (a bare role means it and the ordered roles above it;
  /// role::none makes the route public). A malformed or duplicate registration is recorded
  /// (see registration_error) rather than thrown.
  router& add(std::string_view method, std::string_view pattern, access_rule rule, handler h);

  /// One registered route as the router enforces it (for audits and the auth sweep test).
  struct route_info {
    std::string method;   ///< upper case
    std::string pattern;  ///< as registered, e.g. "/api/v1/certificates/{id}"
    access_rule rule;
  };
  /// Every registered route in registration order. Read-only; the handlers stay private.
  std::vector<route_info> routes() const;

  /// The first registration problem, if any; servers refuse to start with one.
  const std::optional<std::string>& registration_error() const { return registration_error_; }

  /// Serves one request. Never throws.
  response handle(const raw_request& req) const;

  /// Completes an error the transport produced before routing (413 body too large, 400
  /// malformed request, ...) into the same wire shape, headers and log line.
  response transport_error(const raw_request& req, int status) const;

 private:
  struct route;
  struct match;

  std::optional<match> find(const std::string& method, const std::string& path,
                            std::string& allow) const;
  response finish(const raw_request& req, response r, const std::string& request_id,
                  const principal& who, std::chrono::steady_clock::time_point start,
                  const std::string& internal_error) const;
  void report(const auth_event& e) const;

  key_store keys_;
  router_options options_;
  std::vector<std::unique_ptr<route>> routes_;
  std::optional<std::string> registration_error_;
};

}  // namespace certctl::gateways::http
