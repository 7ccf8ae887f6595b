#pragma once
/// The connectors this server ships, registered in one list (builtin_connectors.def, read by
/// builtin.cpp): adding a connector is its folder plus one line there. Fakes are not in the list;
/// tests register them.

#include <string>

#include "connectors/registry.hpp"
#include "events/result.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors {

class local_ca;
class ca_hierarchy;

/// What built-in connectors may need from the server. Pointers, not owned; each must outlive
/// the registry and every connector it makes.
struct builtin_context {
  local_ca* local = nullptr;          ///< the server's own CA (GenericCA)
  ca_hierarchy* hierarchy = nullptr;  ///< its intermediate CAs (GenericCA tree mode); optional
  /// What outbound calls of connectors may reach (CERTCTL_OUTBOUND_ALLOW_CIDRS); notifiers.
  net::outbound_guard outbound{};
};

/// Registers every built-in connector; the first failure is returned (a bug: fail at start).
certctl::result<done, std::string> register_builtin_connectors(connector_registry& registry,
                                                               const builtin_context& context);

}  // namespace certctl::connectors
