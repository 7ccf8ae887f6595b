#include "gateways/rest/scope_check.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace certctl::gateways::rest {

std::optional<http::response> outside_scope(const http::request_context& c,
                                            const events::json_object& certificate) {
  const auto& scope = c.who.scope;
  if (!scope) return std::nullopt;
  const std::pair<const std::vector<std::string>*, const char*> checks[] = {
      {&scope->profile_ids, "certificate_profile_id"},
      {&scope->issuer_ids, "issuer_id"},
      {&scope->team_ids, "team_id"},
      {&scope->owner_ids, "owner_id"}};
  for (const auto& [allowed, field] : checks) {
    const std::string value = certificate.str(field);
    if (!allowed->empty() && std::find(allowed->begin(), allowed->end(), value) == allowed->end())
      return http::error_response(403, "key " + c.who.name + " is scoped: " + field + " '" + value +
                                           "' is outside its scope");
  }
  return std::nullopt;
}

std::optional<http::response> certificate_outside_scope(actors::entity_runtime& runtime,
                                                        const http::request_context& c,
                                                        const std::string& id) {
  if (!c.who.scope) return std::nullopt;
  auto current = runtime.read("certificate", id);
  if (!current) return std::nullopt;
  return outside_scope(c, current->view);
}

}  // namespace certctl::gateways::rest
