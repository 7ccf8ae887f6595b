#pragma once
/// What every REST write route does alike: who is asking, the command it becomes, the body it
/// carries, and how an entity's answer is rendered (one domain-error-to-status table).

#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"

namespace certctl::gateways::rest {

/// HTTP status for a domain error.
int http_status(domain::domain_errc code);

/// The audit principal of the caller: "apikey:<name>", or "anonymous" when auth is off.
std::string principal_of(const gateways::http::request_context& c);

/// A command on behalf of the caller. With an `Idempotency-Key` header the command id is
/// "<name>:<key>", plus ":<scope>" when one request sends several commands of one name (bulk
/// routes scope by entity id), so a retried request has one effect.
domain::command command_for(const gateways::http::request_context& c, std::string name,
                            std::string id, events::json_object body,
                            const std::string& idempotency_scope = "");

/// The request body as a JSON object (an empty body is {}); nullopt with `error` set to a 400.
std::optional<events::json_object> body_of(const gateways::http::request_context& c,
                                           gateways::http::response& error);

/// The entity's view with the committed position (X-Certctl-Position), or the error.
gateways::http::response render(const actors::command_result& r, int ok_status);

}  // namespace certctl::gateways::rest
