#pragma once
/// GCP Secret Manager discovery source ("GCPSecretManager"): a service-account JWT (RS256,
/// RFC 7523) exchanged at the account's token_uri for an OAuth2 access token (scope
/// cloud-platform), then the Secret Manager API v1: projects.secrets.list with a label filter
/// (pageToken paging) and projects.secrets.versions.access of each secret's "latest" version.
/// Found certificates are located as "gcp-sm://{project}/{secret-name}"; the pipeline's
/// sentinel source id is "cloud-gcp-sm".

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::gcp_sm {

inline constexpr const char* type_name = "GCPSecretManager";
inline constexpr const char* sentinel_source_id = "cloud-gcp-sm";

config_schema gcp_sm_schema();

/// Builds the source from a validated config; invalid_config for an unusable one (the
/// service-account JSON unreadable or without client_email, private_key or an https token_uri).
certctl::result<std::shared_ptr<discovery_source>, connector_error> make_gcp_sm_source(
    const connector_settings& settings, const builtin_context& context);

}  // namespace certctl::connectors::gcp_sm

namespace certctl::connectors {
/// Registers the source (builtin_connectors.def).
certctl::result<done, std::string> register_gcp_sm_discovery(connector_registry& registry,
                                                             const builtin_context& context);
}  // namespace certctl::connectors
