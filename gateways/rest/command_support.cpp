#include "gateways/rest/command_support.hpp"

#include <limits>

#include "gateways/http/json.hpp"
#include "gateways/http/position.hpp"

namespace certctl::gateways::rest {

int http_status(domain::domain_errc code) {
  switch (code) {
    case domain::domain_errc::invalid:
      return 400;
    case domain::domain_errc::not_found:
      return 404;
    case domain::domain_errc::conflict:
      return 409;
    case domain::domain_errc::forbidden:
      return 403;
    case domain::domain_errc::internal:
      return 500;
    case domain::domain_errc::unavailable:
      return 503;
  }
  return 500;
}

int http_status(sql::db_errc code) {
  switch (code) {
    case sql::db_errc::invalid_argument:
      return 400;
    case sql::db_errc::unavailable:
      return 503;
    case sql::db_errc::constraint:
    case sql::db_errc::query_failed:
    case sql::db_errc::bad_url:
      return 500;
  }
  return 500;
}

int http_status(connectors::hierarchy_errc code) {
  switch (code) {
    case connectors::hierarchy_errc::invalid:
      return 400;
    case connectors::hierarchy_errc::not_found:
      return 404;
    case connectors::hierarchy_errc::conflict:
      return 409;
    case connectors::hierarchy_errc::unavailable:
      return 503;
    case connectors::hierarchy_errc::internal:
      return 500;
  }
  return 500;
}

http::response error_response(const domain::domain_error& e) {
  return http::error_response(http_status(e.code), e.message);
}

http::response error_response(const sql::db_error& e, const std::string& context) {
  return http::error_response(http_status(e.code),
                              context.empty() ? e.message : context + ": " + e.message);
}

http::response error_response(const connectors::hierarchy_error& e) {
  return http::error_response(http_status(e.code), e.message);
}

std::string principal_of(const http::request_context& c) {
  return c.who.name.empty() ? "anonymous" : "apikey:" + c.who.name;
}

domain::command command_for(const http::request_context& c, std::string name, std::string id,
                            events::json_object body, const std::string& idempotency_scope) {
  domain::command cmd;
  cmd.name = std::move(name);
  cmd.entity_id = std::move(id);
  cmd.body = std::move(body);
  cmd.principal = principal_of(c);
  cmd.source_address = c.remote_addr();
  cmd.correlation_id = c.request_id;
  if (auto key = c.header("Idempotency-Key")) {
    cmd.command_id = cmd.name + ":" + *key;
    if (!idempotency_scope.empty()) cmd.command_id += ":" + idempotency_scope;
  }
  return cmd;
}

std::optional<events::json_object> body_of(const http::request_context& c, http::response& error) {
  // No size cap of its own: the transport answered 413 for bodies over CERTCTL_MAX_BODY_BYTES
  // before routing. The depth cap and the iterative parse are parse_json_object's.
  auto parsed = http::parse_json_object(c.body(), std::numeric_limits<std::size_t>::max());
  if (!parsed) {
    error = http::to_response(parsed.error());
    return std::nullopt;
  }
  return std::move(parsed).value();
}

http::response render(const actors::command_result& r, int ok_status) {
  if (!r) return error_response(r.error());
  auto resp = http::json_response(r->view.dump(), ok_status);
  if (r->position > 0) http::set_position(resp, r->position);
  return resp;
}

}  // namespace certctl::gateways::rest
