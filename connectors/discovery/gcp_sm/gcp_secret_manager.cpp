// GCP Secret Manager over its REST API v1 with a service-account JWT grant; no Google SDK.
#include "connectors/discovery/gcp_sm/gcp_secret_manager.hpp"

#include "connectors/common/cloud_auth.hpp"
#include "connectors/discovery/cloud/cloud_common.hpp"

namespace certctl::connectors::gcp_sm {

namespace {

constexpr const char* who = "GCP Secret Manager";
constexpr const char* scope = "https://www.googleapis.com/auth/cloud-platform";

struct settings {
  std::string id;
  std::string project;
  std::shared_ptr<cloud_auth::google_token_source> tokens;
  cloud::https_url api;
  std::string label_key, label_value;
  cloud::http_options http;
};

class gcp_sm_source final : public discovery_source {
 public:
  explicit gcp_sm_source(settings s) : s_(std::move(s)) {}

  std::string_view type() const override { return type_name; }
  const std::string& id() const override { return s_.id; }

  certctl::result<discovery_page, connector_error> list() override {
    auto token = fetch_token();
    if (!token) return token.error();
    const std::vector<std::pair<std::string, std::string>> auth = {
        {"Authorization", "Bearer " + *token}};
    discovery_page page;
    const std::string base = "/v1/projects/" + cloud::url_encode(s_.project) + "/secrets";
    std::string page_token;
    for (int n = 0; n < cloud::max_pages; ++n) {
      std::string path = base + "?pageSize=100";
      if (!s_.label_key.empty())
        path += "&filter=" + cloud::url_encode("labels." + s_.label_key + "=" + s_.label_value);
      if (!page_token.empty()) path += "&pageToken=" + cloud::url_encode(page_token);
      auto r = cloud::call(s_.api, s_.http, who, "GET", path, auth);
      if (!r) return r.error();
      if (r->status != 200) return cloud::answer_error(*r, who, "secrets.list");
      for (const auto& secret : r->json.object_array("secrets"))
        read(secret.str("name"), auth, page);
      page_token = r->json.str("nextPageToken");
      if (page_token.empty()) return page;
    }
    page.warnings.push_back("stopped after " + std::to_string(cloud::max_pages) + " pages");
    return page;
  }

 private:
  certctl::result<std::string, connector_error> fetch_token() const {
    auto t = s_.tokens->access_token();
    if (!t)
      return connector_error{
          t.error().code == cloud_auth::auth_errc::unavailable      ? connector_errc::unavailable
          : t.error().code == cloud_auth::auth_errc::invalid_config ? connector_errc::invalid_config
                                                                    : connector_errc::failed,
          t.error().message};
    return *t;
  }

  /// `name` is "projects/{project}/secrets/{secret}".
  void read(const std::string& name, const std::vector<std::pair<std::string, std::string>>& auth,
            discovery_page& page) {
    const auto at = name.rfind("/secrets/");
    if (at == std::string::npos) return;
    const std::string secret = name.substr(at + 9);
    if (secret.empty() || secret.find('/') != std::string::npos) return;
    const std::string location = "gcp-sm://" + s_.project + "/" + secret;
    auto r = cloud::call(s_.api, s_.http, who, "GET",
                         "/v1/projects/" + cloud::url_encode(s_.project) + "/secrets/" +
                             cloud::url_encode(secret) + "/versions/latest:access",
                         auth);
    if (!r || r->status != 200) {
      page.warnings.push_back(
          location + ": " +
          (r ? cloud::answer_error(*r, who, "versions.access").message : r.error().message));
      return;
    }
    std::string data;
    if (auto payload = events::json_object::parse(r->json.raw("payload")))
      if (auto bytes = cloud::base64_decode(payload->str("data"))) data = *bytes;
    auto cert = cloud::certificate_from(data, location);
    if (!cert) {
      page.warnings.push_back(location + ": no certificate in the secret");
      return;
    }
    page.certificates.push_back(std::move(*cert));
  }

  settings s_;
};

}  // namespace

config_schema gcp_sm_schema() {
  return {{
      {"project", field_type::string, true, false, "GCP project id"},
      {"credentials_json", field_type::string, true, true,
       "the service account's JSON key (client_email, private_key, private_key_id, token_uri)"},
      {"label_filter", field_type::string, false, false,
       "key=value label a secret must carry (default type=certificate; \"\" = none)"},
      {"api_url", field_type::string, false, false,
       "API endpoint (default https://secretmanager.googleapis.com)"},
      {"ca_bundle_path", field_type::string, false, false, "PEM trust anchors of both endpoints"},
  }};
}

certctl::result<std::shared_ptr<discovery_source>, connector_error> make_gcp_sm_source(
    const connector_settings& in, const builtin_context& context) {
  auto invalid = [](const std::string& m) {
    return connector_error{connector_errc::invalid_config, m};
  };
  settings s;
  s.id = in.id;
  s.project = in.config.str("project");
  auto account = cloud_auth::parse_google_service_account(in.config.str("credentials_json"));
  if (!account) return invalid("credentials_json: " + account.error().message);
  if (auto t = cloud::parse_https_url(account->token_uri, "credentials_json.token_uri"); !t)
    return t.error();
  auto api = cloud::parse_https_url(
      in.config.str("api_url", "https://secretmanager.googleapis.com"), "api_url");
  if (!api) return api.error();
  s.api = *api;
  const std::string label = in.config.str("label_filter", "type=certificate");
  if (!label.empty()) {
    const auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0) return invalid("label_filter must be key=value");
    s.label_key = label.substr(0, eq);
    s.label_value = label.substr(eq + 1);
  }
  s.http.allow = context.outbound_allow;
  s.http.ca_bundle_path = in.config.str("ca_bundle_path");
  cloud_auth::transport_options t;
  t.allow = s.http.allow;
  t.ca_bundle_path = s.http.ca_bundle_path;
  s.tokens = std::make_shared<cloud_auth::google_token_source>(std::move(*account), scope, "",
                                                               std::move(t), who);
  return std::shared_ptr<discovery_source>(std::make_shared<gcp_sm_source>(std::move(s)));
}

}  // namespace certctl::connectors::gcp_sm

namespace certctl::connectors {

certctl::result<done, std::string> register_gcp_sm_discovery(connector_registry& registry,
                                                             const builtin_context& context) {
  discovery_registration r;
  r.type = gcp_sm::type_name;
  r.description = "certificates stored as secrets in GCP Secret Manager (service-account JWT)";
  r.schema = gcp_sm::gcp_sm_schema();
  r.make = [context](const connector_settings& s) {
    return gcp_sm::make_gcp_sm_source(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
