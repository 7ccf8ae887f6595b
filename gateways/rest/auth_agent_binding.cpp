#include "gateways/rest/auth_agent_binding.hpp"

namespace certctl::gateways::rest {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string param(const std::map<std::string, std::string>& params, const char* name) {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

http::response refused(const std::string& why) {
  return http::error_response(403, why);
}

}  // namespace

std::optional<http::response> agent_binding_refusal(
    actors::entity_runtime& runtime, const http::principal& who, const std::string& pattern,
    const std::map<std::string, std::string>& params) {
  if (who.level != http::role::agent) return std::nullopt;
  if (who.agent_id.empty())
    return refused("agent key '" + who.name +
                   "' is bound to no agent (configure it as name:key:agent:<agent-id>, or create "
                   "it with agent_id)");
  const std::string id = param(params, "id");
  if (starts_with(pattern, "/api/v1/agents/{id}/")) {
    if (id == who.agent_id) return std::nullopt;
    auto agent = runtime.read("agent", id);
    if (!agent && agent.error().code == domain::domain_errc::not_found)
      return http::error_response(404, "agent " + id + " not found");
    return refused("this key is bound to agent " + who.agent_id + "; it may not act for agent " +
                   id);
  }
  if (pattern == "/api/v1/jobs/{id}" || starts_with(pattern, "/api/v1/jobs/{id}/")) {
    auto job = runtime.read("job", id);
    if (!job && job.error().code == domain::domain_errc::not_found)
      return http::error_response(404, "job " + id + " not found");
    if (job && job->view.str("agent_id") == who.agent_id) return std::nullopt;
    return refused("job " + id + " is not assigned to agent " + who.agent_id);
  }
  return refused("agent keys may call only their own agent's operations");
}

void bind_agent_keys(http::router_options& options, actors::entity_runtime& runtime) {
  options.check_binding = [&runtime](const http::principal& who, const std::string& pattern,
                                     const std::map<std::string, std::string>& params) {
    return agent_binding_refusal(runtime, who, pattern, params);
  };
}

}  // namespace certctl::gateways::rest
