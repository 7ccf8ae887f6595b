#pragma once
/// The cloud discovery scheduler and its three sources, from the reference's environment
/// variables (docs/discovery.md, "Cloud sources"). Nothing runs unless
/// CERTCTL_CLOUD_DISCOVERY_ENABLED and a source's own switch are both true. Validated at start:
/// an enabled source missing a required variable fails the server, naming the variable.

#include <cstdint>
#include <functional>
#include <string>

#include "events/result.hpp"

namespace certctl::infra {

struct cloud_discovery_config {
  bool enabled = false;                   ///< CERTCTL_CLOUD_DISCOVERY_ENABLED
  std::int64_t interval_seconds = 21600;  ///< CERTCTL_CLOUD_DISCOVERY_INTERVAL (6h)

  bool aws_enabled = false;                         ///< CERTCTL_AWS_SM_DISCOVERY_ENABLED
  std::string aws_region;                           ///< CERTCTL_AWS_SM_REGION
  std::string aws_tag_filter = "type=certificate";  ///< CERTCTL_AWS_SM_TAG_FILTER
  std::string aws_name_prefix;                      ///< CERTCTL_AWS_SM_NAME_PREFIX
  /// The standard AWS variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (secret),
  /// AWS_SESSION_TOKEN (secret).
  std::string aws_access_key_id, aws_secret_access_key, aws_session_token;
  std::string aws_endpoint_url;  ///< CERTCTL_AWS_SM_ENDPOINT_URL; "" = the region's endpoint

  bool azure_enabled = false;  ///< CERTCTL_AZURE_KV_DISCOVERY_ENABLED
  std::string azure_vault_url, azure_tenant_id, azure_client_id;
  std::string azure_client_secret;  ///< CERTCTL_AZURE_KV_CLIENT_SECRET; secret
  std::string azure_authority_url;  ///< CERTCTL_AZURE_KV_AUTHORITY_URL; "" = public cloud

  bool gcp_enabled = false;     ///< CERTCTL_GCP_SM_DISCOVERY_ENABLED
  std::string gcp_project;      ///< CERTCTL_GCP_SM_PROJECT
  std::string gcp_credentials;  ///< CERTCTL_GCP_SM_CREDENTIALS: path of the account's JSON key
  std::string gcp_api_url;      ///< CERTCTL_GCP_SM_API_URL; "" = secretmanager.googleapis.com

  std::string ca_bundle_path;  ///< CERTCTL_CLOUD_DISCOVERY_CA_BUNDLE; "" = system trust store
};

result<cloud_discovery_config, std::string> load_cloud_discovery_config(
    const std::function<const char*(const char*)>& getenv_fn);

}  // namespace certctl::infra
