#pragma once
/// The error of the target, notifier and discovery interfaces (issuers keep issuer_error,
/// which predates them). Messages are readable and safe to show to the API caller: they never
/// carry a secret from the connector's config.

#include <string>
#include <string_view>

namespace certctl::connectors {

enum class connector_errc {
  invalid_config,   ///< the config is valid by schema but unusable (a path missing, ...)
  invalid_request,  ///< the request contradicts itself
  unsupported,      ///< the connector does not offer this operation (see its capabilities)
  unavailable,      ///< the peer cannot be reached or refused for now; retrying may help
  failed,           ///< the peer answered and the operation did not succeed
  internal,         ///< a bug or a library failure
};

std::string_view to_string(connector_errc c);

struct connector_error {
  connector_errc code = connector_errc::internal;
  std::string message;
};

}  // namespace certctl::connectors
