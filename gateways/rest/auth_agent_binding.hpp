#pragma once
/// Agent least privilege: an agent key is bound to one agent id (configured as
/// `name:key:agent:<agent-id>`, or a managed key created with `agent_id`) and may call the agent
/// operations of that agent only. The router runs this after its role check
/// (http::router_options::check_binding), so every route that admits the agent role is covered,
/// including routes added later:
///
///   /api/v1/agents/{id}/...   {id} must be the key's agent
///   /api/v1/jobs/{id}...      the job must be assigned to the key's agent
///   anything else             refused (an agent route of another shape must be added here)
///
/// A refusal answers 403 and the router reports it (auth.denied, reason outside_binding). An
/// {id} that names no agent or job answers 404 as the handler would, so an agent started with
/// a wrong id still learns that it is not registered. Keys of other roles pass unchecked.

#include <map>
#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"

namespace certctl::gateways::rest {

/// The refusal for `who` on the route `pattern` with `params`, or nullopt when it may go on.
std::optional<gateways::http::response> agent_binding_refusal(
    actors::entity_runtime& runtime, const gateways::http::principal& who,
    const std::string& pattern, const std::map<std::string, std::string>& params);

/// Installs agent_binding_refusal as `options.check_binding`; `runtime` must outlive the router.
void bind_agent_keys(gateways::http::router_options& options, actors::entity_runtime& runtime);

}  // namespace certctl::gateways::rest
