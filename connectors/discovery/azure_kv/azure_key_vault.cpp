// Azure Key Vault over its REST API with a client-credentials token; no Azure SDK.
#include "connectors/discovery/azure_kv/azure_key_vault.hpp"

#include "connectors/discovery/cloud/cloud_common.hpp"

namespace certctl::connectors::azure_kv {

namespace {

constexpr const char* who = "Azure Key Vault";

struct settings {
  std::string id;
  cloud::https_url vault;
  std::string vault_origin;  ///< "https://host[:port]" as nextLink and ids start
  cloud::https_url authority;
  std::string tenant_id, client_id, client_secret;
  cloud::http_options http;
};

class azure_kv_source final : public discovery_source {
 public:
  explicit azure_kv_source(settings s) : s_(std::move(s)) {}

  std::string_view type() const override { return type_name; }
  const std::string& id() const override { return s_.id; }

  certctl::result<discovery_page, connector_error> list() override {
    auto token = fetch_token();
    if (!token) return token.error();
    const std::vector<std::pair<std::string, std::string>> auth = {
        {"Authorization", "Bearer " + *token}};
    discovery_page page;
    std::string path = "/certificates?api-version=" + std::string(api_version) + "&maxresults=25";
    for (int n = 0; n < cloud::max_pages; ++n) {
      auto r = cloud::call(s_.vault, s_.http, who, "GET", path, auth);
      if (!r) return r.error();
      if (r->status != 200) return cloud::answer_error(*r, who, "list certificates");
      for (const auto& item : r->json.object_array("value")) read(item.str("id"), auth, page);
      const std::string next = r->json.str("nextLink");
      if (next.empty()) return page;
      // The bearer token goes only to the vault it was asked for.
      const std::string prefix = s_.vault_origin + s_.vault.base_path + "/";
      if (next.rfind(prefix, 0) != 0) {
        page.warnings.push_back("nextLink leaves the vault; listing stopped there");
        return page;
      }
      path = next.substr(prefix.size() - 1);
    }
    page.warnings.push_back("stopped after " + std::to_string(cloud::max_pages) + " pages");
    return page;
  }

 private:
  certctl::result<std::string, connector_error> fetch_token() const {
    const std::string body = cloud::form_body({{"grant_type", "client_credentials"},
                                               {"client_id", s_.client_id},
                                               {"client_secret", s_.client_secret},
                                               {"scope", "https://vault.azure.net/.default"}});
    auto r = cloud::call(s_.authority, s_.http, who, "POST",
                         "/" + cloud::url_encode(s_.tenant_id) + "/oauth2/v2.0/token",
                         {{"Content-Type", "application/x-www-form-urlencoded"}}, body);
    if (!r) return r.error();
    // The error body names the problem (AADSTS codes) and never echoes the secret.
    if (r->status != 200) return cloud::answer_error(*r, who, "token endpoint");
    const std::string token = r->json.str("access_token");
    if (token.empty())
      return connector_error{connector_errc::failed,
                             std::string(who) + ": token answer without access_token"};
    return token;
  }

  /// `id` is "https://{vault}/certificates/{name}"; the version is in the GET's answer.
  void read(const std::string& id, const std::vector<std::pair<std::string, std::string>>& auth,
            discovery_page& page) {
    const auto at = id.rfind("/certificates/");
    if (at == std::string::npos) return;
    std::string name = id.substr(at + 14);
    if (name.empty() || name.find('/') != std::string::npos) return;
    auto r = cloud::call(
        s_.vault, s_.http, who, "GET",
        "/certificates/" + cloud::url_encode(name) + "/?api-version=" + api_version, auth);
    if (!r || r->status != 200) {
      page.warnings.push_back(
          "azure-kv://" + name + ": " +
          (r ? cloud::answer_error(*r, who, "get certificate").message : r.error().message));
      return;
    }
    const std::string full_id = r->json.str("id");
    const auto slash = full_id.rfind('/');
    const std::string version = slash == std::string::npos ? "" : full_id.substr(slash + 1);
    const std::string location = "azure-kv://" + name + "/" + version;
    auto der = cloud::base64_decode(r->json.str("cer"));
    auto cert = der ? cloud::certificate_from(*der, location) : std::nullopt;
    if (!cert) {
      page.warnings.push_back(location + ": no certificate in the answer");
      return;
    }
    page.certificates.push_back(std::move(*cert));
  }

  settings s_;
};

}  // namespace

config_schema azure_kv_schema() {
  return {{
      {"vault_url", field_type::string, true, false, "https://myvault.vault.azure.net"},
      {"tenant_id", field_type::string, true, false, "Azure AD (Entra ID) tenant id"},
      {"client_id", field_type::string, true, false, "application (client) id"},
      {"client_secret", field_type::string, true, true, "application secret"},
      {"authority_url", field_type::string, false, false,
       "token service (default https://login.microsoftonline.com)"},
      {"ca_bundle_path", field_type::string, false, false, "PEM trust anchors of both endpoints"},
  }};
}

certctl::result<std::shared_ptr<discovery_source>, connector_error> make_azure_kv_source(
    const connector_settings& in, const builtin_context& context) {
  settings s;
  s.id = in.id;
  auto vault = cloud::parse_https_url(in.config.str("vault_url"), "vault_url");
  if (!vault) return vault.error();
  s.vault = *vault;
  s.vault_origin = "https://" + cloud::host_header(s.vault);
  auto authority = cloud::parse_https_url(
      in.config.str("authority_url", "https://login.microsoftonline.com"), "authority_url");
  if (!authority) return authority.error();
  s.authority = *authority;
  s.tenant_id = in.config.str("tenant_id");
  s.client_id = in.config.str("client_id");
  s.client_secret = in.config.str("client_secret");
  s.http.allow = context.outbound_allow;
  s.http.ca_bundle_path = in.config.str("ca_bundle_path");
  return std::shared_ptr<discovery_source>(std::make_shared<azure_kv_source>(std::move(s)));
}

}  // namespace certctl::connectors::azure_kv

namespace certctl::connectors {

certctl::result<done, std::string> register_azure_kv_discovery(connector_registry& registry,
                                                               const builtin_context& context) {
  discovery_registration r;
  r.type = azure_kv::type_name;
  r.description = "certificates in an Azure Key Vault (OAuth2 client credentials)";
  r.schema = azure_kv::azure_kv_schema();
  r.make = [context](const connector_settings& s) {
    return azure_kv::make_azure_kv_source(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
