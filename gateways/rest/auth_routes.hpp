#pragma once
/// GET /api/v1/auth/info (public: lets a GUI learn before login whether it needs a key) and
/// GET /api/v1/auth/check (authenticated: 200 with the caller's principal and role when the
/// key is valid; the router answers 401 otherwise).

#include <string>

#include "gateways/http/router.hpp"

namespace certctl::gateways::rest {

struct auth_context {
  /// CERTCTL_AUTH_TYPE as configured: "api-key" or "none".
  std::string auth_type;
};

void add_auth_routes(gateways::http::router& r, const auth_context& ctx);

}  // namespace certctl::gateways::rest
