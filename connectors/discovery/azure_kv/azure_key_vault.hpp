#pragma once
/// Azure Key Vault discovery source ("AzureKeyVault"): an access token from the Microsoft
/// identity platform v2.0 token endpoint with the OAuth2 client-credentials grant (scope
/// https://vault.azure.net/.default), then the Key Vault REST API 7.4: GET /certificates
/// (following nextLink on the same vault only) and GET /certificates/{name}/ for each one's
/// DER ("cer"). Found certificates are located as "azure-kv://{cert-name}/{version}"; the
/// pipeline's sentinel source id is "cloud-azure-kv".

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::azure_kv {

inline constexpr const char* type_name = "AzureKeyVault";
inline constexpr const char* sentinel_source_id = "cloud-azure-kv";
inline constexpr const char* api_version = "7.4";

config_schema azure_kv_schema();

/// Builds the source from a validated config; invalid_config for an unusable one.
certctl::result<std::shared_ptr<discovery_source>, connector_error> make_azure_kv_source(
    const connector_settings& settings, const builtin_context& context);

}  // namespace certctl::connectors::azure_kv

namespace certctl::connectors {
/// Registers the source (builtin_connectors.def).
certctl::result<done, std::string> register_azure_kv_discovery(connector_registry& registry,
                                                               const builtin_context& context);
}  // namespace certctl::connectors
