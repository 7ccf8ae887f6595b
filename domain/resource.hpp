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

}  // namespace certctl::domain
