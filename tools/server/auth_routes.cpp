#include "tools/server/auth_routes.hpp"

#include "events/json.hpp"

namespace certctl::server {
namespace rest = gateways::rest;

void add_auth_routes(rest::router& r, const auth_context& ctx) {
  const bool required = ctx.auth_type != "none";
  const std::string type = required ? "api-key" : "none";
  r.add("GET", "/api/v1/auth/info", rest::role::none, [type, required](rest::request_context&) {
    events::json_object out;
    out.set("auth_type", type).set("required", required);
    return rest::json_response(out.dump());
  });
  // Viewer is the lowest role, so any valid key passes; with auth disabled the router runs
  // the request as the anonymous admin and this says so.
  r.add("GET", "/api/v1/auth/check", rest::role::viewer, [required](rest::request_context& c) {
    // Spelled as the audit trail names the caller, so the two can be matched.
    const std::string principal = required ? "apikey:" + c.who.name : "anonymous";
    events::json_object out;
    out.set("status", "authenticated")
        .set("principal", principal)
        .set("role", std::string(rest::to_string(c.who.level)));
    return rest::json_response(out.dump());
  });
}

}  // namespace certctl::server
