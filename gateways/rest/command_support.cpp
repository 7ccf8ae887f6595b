#include "gateways/rest/command_support.hpp"

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
  if (c.body().empty()) return events::json_object{};
  std::string why;
  auto parsed = events::json_object::parse(c.body(), &why);
  if (!parsed) error = http::error_response(400, "request body is not a JSON object: " + why);
  return parsed;
}

http::response render(const actors::command_result& r, int ok_status) {
  if (!r) return http::error_response(http_status(r.error().code), r.error().message);
  auto resp = http::json_response(r->view.dump(), ok_status);
  if (r->position > 0) http::set_position(resp, r->position);
  return resp;
}

}  // namespace certctl::gateways::rest
