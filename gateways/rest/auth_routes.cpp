#include "gateways/rest/auth_routes.hpp"

#include "events/json.hpp"

namespace certctl::gateways::rest {

void add_auth_routes(http::router& r, const auth_context& ctx) {
  const bool required = ctx.auth_type != "none";
  const std::string type = required ? "api-key" : "none";
  r.add("GET", "/api/v1/auth/info", http::role::none, [type, required](http::request_context&) {
    events::json_object out;
    out.set("auth_type", type).set("required", required);
    return http::json_response(out.dump());
  });
  // Viewer is the lowest role, so any valid key passes; with auth disabled the router runs
  // the request as the anonymous admin and this says so.
  r.add("GET", "/api/v1/auth/check", http::role::viewer, [required](http::request_context& c) {
    // Spelled as the audit trail names the caller, so the two can be matched.
    const std::string principal = required ? "apikey:" + c.who.name : "anonymous";
    events::json_object out;
    out.set("status", "authenticated")
        .set("principal", principal)
        .set("role", std::string(http::to_string(c.who.level)));
    return http::json_response(out.dump());
  });
}

}  // namespace certctl::gateways::rest
