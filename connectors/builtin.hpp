#pragma once
/// The connectors this server ships, registered in one list (builtin_connectors.def, read by
/// builtin.cpp): adding a connector is its folder plus one line there. Fakes are not in the list;
/// tests register them.

#include <functional>
#include <optional>
#include <string>

#include "connectors/registry.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

class local_ca;
class ca_hierarchy;
}  // namespace certctl::connectors
namespace certctl::crypto {
class key_store;
}
namespace certctl::net {
class outbound_guard;
}
namespace certctl::connectors {

/// What built-in connectors may need from the server. Pointers, not owned; each must outlive
/// the registry and every connector it makes.
struct builtin_context {
  local_ca* local = nullptr;          ///< the server's own CA (GenericCA)
  ca_hierarchy* hierarchy = nullptr;  ///< its intermediate CAs (GenericCA tree mode); optional
  crypto::key_store* keys = nullptr;  ///< account keys of network CAs (ACME); optional
  const net::outbound_guard* outbound = nullptr;  ///< every outbound call of a connector
  /// PEM chain of the stored certificate with this serial (hex): ACME revokes by certificate.
  std::function<std::optional<std::string>(const std::string& serial_hex)> certificate_by_serial =
      {};
};

/// Registers every built-in connector; the first failure is returned (a bug: fail at start).
certctl::result<done, std::string> register_builtin_connectors(connector_registry& registry,
                                                               const builtin_context& context);

}  // namespace certctl::connectors
