#pragma once
/// Registration of the SSH target (type "SSH"); listed in builtin_connectors.def.

#include <string>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors {

/// Adds type "SSH" with its schema; the factory uses a copy of `context.outbound` (public
/// addresses only when null) for every connection.
certctl::result<done, std::string> register_ssh_target(connector_registry& registry,
                                                       const builtin_context& context);

}  // namespace certctl::connectors
