#pragma once
/// What every REST route does alike: who is asking, the command it becomes, the body it
/// carries, and how an answer or an error is rendered. The one error-to-status table of the
/// REST gateway lives here (DESIGN §10); handlers never pick a status for an error code by hand.
///
///   domain_errc     invalid 400, not_found 404, conflict 409, forbidden 403, internal 500,
///                   unavailable 503
///   db_errc         invalid_argument 400, unavailable 503 (busy, connection lost: retry),
///                   constraint / query_failed / bad_url 500
///   hierarchy_errc  invalid 400, not_found 404, conflict 409, unavailable 503, internal 500

#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "connectors/issuers/local/hierarchy.hpp"
#include "gateways/http/router.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

/// HTTP status for an entity's answer, a read-model query's failure, a CA hierarchy's refusal.
int http_status(domain::domain_errc code);
int http_status(sql::db_errc code);
int http_status(connectors::hierarchy_errc code);

/// The error response for each: the status from the table, the error's own message (after
/// "<context>: " when a context is given, e.g. "audit query failed").
gateways::http::response error_response(const domain::domain_error& e);
gateways::http::response error_response(const sql::db_error& e, const std::string& context = "");
gateways::http::response error_response(const connectors::hierarchy_error& e);

/// The access rule of an agent operation (heartbeat, work polling, CSR submission, certificate
/// pickup, job status): the ordered roles from `min` up, as before agents had a role, plus
/// `agent` keys, which may call nothing else.
inline gateways::http::access_rule agent_operation(
    gateways::http::role min = gateways::http::role::operator_) {
  return gateways::http::access_rule(min).plus(gateways::http::role::agent);
}

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
