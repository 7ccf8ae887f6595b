#pragma once
/// The connectors this server ships, registered in one list (builtin_connectors.def, read by
/// builtin.cpp): adding a connector is its folder plus one line there. Fakes are not in the list;
/// tests register them.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connectors/registry.hpp"
#include "events/result.hpp"
#include "infra/net/ip_address.hpp"
#include "infra/net/outbound_guard.hpp"

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
  /// The outbound guard (CERTCTL_OUTBOUND_ALLOW_CIDRS) for connectors that connect out, e.g.
  /// the targets' post-deploy TLS check; null = public addresses only.
  const net::outbound_guard* outbound = nullptr;
  /// Ranges the outbound guard permits although not public (CERTCTL_OUTBOUND_ALLOW_CIDRS):
  /// every network call of a connector goes through the guard with these.
  std::vector<net::cidr> outbound_allow = {};
  /// Told every Vault token renewal's outcome ("success", "failure", "not_renewable"), for
  /// certctl_vault_token_renewals_total; may be empty. Called on the renewal thread.
  std::function<void(const std::string& result)> on_vault_token_renewal = {};
  /// Set by certctl-agent, which runs targets only: connectors that need the server (issuers)
  /// register nothing there instead of failing.
  bool agent_side = false;
  crypto::key_store* keys = nullptr;  ///< account keys of network CAs (ACME); optional
  /// PEM chain of the stored certificate with this serial (hex): ACME revokes by certificate.
  std::function<std::optional<std::string>(const std::string& serial_hex)> certificate_by_serial =
      {};
};

/// Registers every built-in connector; the first failure is returned (a bug: fail at start).
certctl::result<done, std::string> register_builtin_connectors(connector_registry& registry,
                                                               const builtin_context& context);

}  // namespace certctl::connectors
