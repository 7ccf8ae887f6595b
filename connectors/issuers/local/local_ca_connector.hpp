#pragma once
/// Registers the local CA as issuer type "GenericCA" (the first registered issuer).
///
/// Config: { "intermediate_id": string, optional }. Absent (or the local CA's own id): the
/// server's local CA signs. Set: that intermediate CA of the hierarchy signs (tree mode), with
/// the chain up to the root. The CA's key material and URLs are server-wide settings
/// (CERTCTL_CA_CERT_PATH, ...), not per-issuer config, so the schema has no secret field.

#include <string>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors {

/// The GenericCA schema, for tests and docs.
config_schema local_ca_schema();

/// Needs context.local; context.hierarchy enables intermediate_id.
certctl::result<done, std::string> register_local_ca_connector(connector_registry& registry,
                                                               const builtin_context& context);

}  // namespace certctl::connectors
