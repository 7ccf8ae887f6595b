#include "infra/cloud_discovery_config.hpp"

#include "infra/duration.hpp"

namespace certctl::infra {

result<cloud_discovery_config, std::string> load_cloud_discovery_config(
    const std::function<const char*(const char*)>& getenv_fn) {
  cloud_discovery_config c;
  auto str = [&](const char* name, std::string& out) {
    if (const char* v = getenv_fn(name); v != nullptr && *v != '\0') out = v;
  };
  std::string error;
  auto flag = [&](const char* name, bool& out) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return;
    const std::string s = v;
    if (s == "true" || s == "1")
      out = true;
    else if (s == "false" || s == "0")
      out = false;
    else if (error.empty())
      error = std::string(name) + "=" + s + " must be true or false";
  };
  flag("CERTCTL_CLOUD_DISCOVERY_ENABLED", c.enabled);
  flag("CERTCTL_AWS_SM_DISCOVERY_ENABLED", c.aws_enabled);
  flag("CERTCTL_AZURE_KV_DISCOVERY_ENABLED", c.azure_enabled);
  flag("CERTCTL_GCP_SM_DISCOVERY_ENABLED", c.gcp_enabled);
  if (!error.empty()) return error;
  if (const char* v = getenv_fn("CERTCTL_CLOUD_DISCOVERY_INTERVAL"); v && *v) {
    auto s = parse_duration_seconds(v);
    if (!s || *s < 60)
      return std::string("CERTCTL_CLOUD_DISCOVERY_INTERVAL=") + v +
             " must be a duration of at least 1m (e.g. 6h)";
    c.interval_seconds = *s;
  }
  str("CERTCTL_AWS_SM_REGION", c.aws_region);
  if (const char* v = getenv_fn("CERTCTL_AWS_SM_TAG_FILTER"); v != nullptr) c.aws_tag_filter = v;
  str("CERTCTL_AWS_SM_NAME_PREFIX", c.aws_name_prefix);
  str("AWS_ACCESS_KEY_ID", c.aws_access_key_id);
  str("AWS_SECRET_ACCESS_KEY", c.aws_secret_access_key);
  str("AWS_SESSION_TOKEN", c.aws_session_token);
  str("CERTCTL_AWS_SM_ENDPOINT_URL", c.aws_endpoint_url);
  str("CERTCTL_AZURE_KV_VAULT_URL", c.azure_vault_url);
  str("CERTCTL_AZURE_KV_TENANT_ID", c.azure_tenant_id);
  str("CERTCTL_AZURE_KV_CLIENT_ID", c.azure_client_id);
  str("CERTCTL_AZURE_KV_CLIENT_SECRET", c.azure_client_secret);
  str("CERTCTL_AZURE_KV_AUTHORITY_URL", c.azure_authority_url);
  str("CERTCTL_GCP_SM_PROJECT", c.gcp_project);
  str("CERTCTL_GCP_SM_CREDENTIALS", c.gcp_credentials);
  str("CERTCTL_GCP_SM_API_URL", c.gcp_api_url);
  str("CERTCTL_CLOUD_DISCOVERY_CA_BUNDLE", c.ca_bundle_path);
  if (!c.enabled) return c;
  auto need = [](bool on, const std::string& value, const char* name) -> std::string {
    return on && value.empty() ? std::string(name) + " is required when its source is enabled"
                               : std::string();
  };
  for (const auto& e :
       {need(c.aws_enabled, c.aws_region, "CERTCTL_AWS_SM_REGION"),
        // Keys are optional (the AWS credential chain: shared files, instance metadata), but
        // one without the other is a mistake worth stopping for.
        need(c.aws_enabled && !c.aws_secret_access_key.empty(), c.aws_access_key_id,
             "AWS_ACCESS_KEY_ID"),
        need(c.aws_enabled && !c.aws_access_key_id.empty(), c.aws_secret_access_key,
             "AWS_SECRET_ACCESS_KEY"),
        need(c.azure_enabled, c.azure_vault_url, "CERTCTL_AZURE_KV_VAULT_URL"),
        need(c.azure_enabled, c.azure_tenant_id, "CERTCTL_AZURE_KV_TENANT_ID"),
        need(c.azure_enabled, c.azure_client_id, "CERTCTL_AZURE_KV_CLIENT_ID"),
        need(c.azure_enabled, c.azure_client_secret, "CERTCTL_AZURE_KV_CLIENT_SECRET"),
        need(c.gcp_enabled, c.gcp_project, "CERTCTL_GCP_SM_PROJECT"),
        need(c.gcp_enabled, c.gcp_credentials, "CERTCTL_GCP_SM_CREDENTIALS")})
    if (!e.empty()) return e;
  return c;
}

}  // namespace certctl::infra
