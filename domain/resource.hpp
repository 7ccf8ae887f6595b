#pragma once
/// Configuration entities that share one life cycle (created -> updated* -> deleted): issuer,
/// certificate profile, renewal policy, team, owner, and agent (which adds heartbeat and
/// retirement). One descriptor per kind lists its fields, which are required, their defaults
/// and extra rules; the aggregate logic is shared.

#include <memory>
#include <string>
#include <vector>

#include "domain/aggregate.hpp"

namespace certctl::domain {

/// Kinds handled by make_resource.
const std::vector<std::string>& resource_kinds();

std::unique_ptr<aggregate> make_resource(const std::string& kind, const std::string& id);

/// Folds one event of a resource of `kind` into its API view and its deleted flag; `payload`
/// is e.payload, parsed once by the caller. The aggregate's apply() and the resources read
/// model both fold with it. Returns false (nothing changed) for a type the view does not show.
bool fold_resource(events::json_object& view, bool& deleted, const std::string& kind,
                   const std::string& id, const events::recorded_event& e,
                   const events::json_object& payload);

}  // namespace certctl::domain
