// AWS Secrets Manager through its JSON 1.1 API (POST / with X-Amz-Target
// secretsmanager.ListSecrets / secretsmanager.GetSecretValue), SigV4-signed.
#include "connectors/discovery/aws_sm/aws_secrets_manager.hpp"

#include <cctype>
#include <ctime>

#include "connectors/common/cloud_auth.hpp"
#include "connectors/discovery/cloud/cloud_common.hpp"

namespace certctl::connectors::aws_sm {

namespace {

constexpr const char* who = "AWS Secrets Manager";

struct settings {
  std::string id;
  std::string region;
  std::shared_ptr<cloud_auth::aws_credential_chain> credentials;
  std::string tag_key, tag_value;  ///< "" key: no tag filter
  std::string name_prefix;
  cloud::https_url endpoint;
  cloud::http_options http;
};

std::string json_string(const std::string& s) {
  events::json_object o;
  o.set("v", s);
  const auto d = o.dump();  // {"v":"..."}
  return d.substr(5, d.size() - 6);
}

class aws_sm_source final : public discovery_source {
 public:
  explicit aws_sm_source(settings s) : s_(std::move(s)) {}

  std::string_view type() const override { return type_name; }
  const std::string& id() const override { return s_.id; }

  certctl::result<discovery_page, connector_error> list() override {
    discovery_page page;
    std::string next_token;
    for (int n = 0; n < cloud::max_pages; ++n) {
      auto listed = post("ListSecrets", list_body(next_token));
      if (!listed) return listed.error();
      for (const auto& secret : listed->object_array("SecretList")) read(secret, page);
      next_token = listed->str("NextToken");
      if (next_token.empty()) return page;
    }
    page.warnings.push_back("stopped after " + std::to_string(cloud::max_pages) + " pages");
    return page;
  }

 private:
  std::string list_body(const std::string& next_token) const {
    std::vector<std::string> filters;
    auto filter = [&](const char* key, const std::string& value) {
      filters.push_back(std::string("{\"Key\":\"") + key + "\",\"Values\":[" + json_string(value) +
                        "]}");
    };
    if (!s_.tag_key.empty()) filter("tag-key", s_.tag_key);
    if (!s_.tag_value.empty()) filter("tag-value", s_.tag_value);
    if (!s_.name_prefix.empty()) filter("name", s_.name_prefix);
    std::string joined;
    for (const auto& f : filters) joined += (joined.empty() ? "" : ",") + f;
    events::json_object body;
    body.set("MaxResults", 100);
    if (!filters.empty()) body.set_raw("Filters", "[" + joined + "]");
    if (!next_token.empty()) body.set("NextToken", next_token);
    return body.dump();
  }

  /// tag-key and tag-value filters match independently (any key, any value): keep only the
  /// secrets that carry the pair itself.
  bool tagged(const events::json_object& secret) const {
    if (s_.tag_key.empty()) return true;
    for (const auto& tag : secret.object_array("Tags"))
      if (tag.str("Key") == s_.tag_key &&
          (s_.tag_value.empty() || tag.str("Value") == s_.tag_value))
        return true;
    return false;
  }

  void read(const events::json_object& secret, discovery_page& page) {
    const std::string name = secret.str("Name");
    if (name.empty() || !tagged(secret)) return;
    const std::string location = "aws-sm://" + s_.region + "/" + name;
    events::json_object body;
    body.set("SecretId", secret.str("ARN", name));
    auto value = post("GetSecretValue", body.dump());
    if (!value) {
      page.warnings.push_back(location + ": " + value.error().message);
      return;
    }
    std::string content = value->str("SecretString");
    if (content.empty()) {
      // SecretBinary travels base64-encoded in the JSON protocol.
      auto bin = cloud::base64_decode(value->str("SecretBinary"));
      if (bin) content = *bin;
    }
    auto cert = cloud::certificate_from(content, location);
    if (!cert) {
      page.warnings.push_back(location + ": no certificate in the secret");
      return;
    }
    page.certificates.push_back(std::move(*cert));
  }

  certctl::result<events::json_object, connector_error> post(const std::string& action,
                                                             const std::string& body) const {
    auto creds = s_.credentials->credentials();
    if (!creds)
      return connector_error{creds.error().code == cloud_auth::auth_errc::unavailable
                                 ? connector_errc::unavailable
                                 : connector_errc::invalid_config,
                             std::string(who) + ": " + creds.error().message};
    cloud_auth::endpoint e{true, s_.endpoint.host, s_.endpoint.port, s_.endpoint.base_path};
    auto headers = cloud_auth::sign_json11(e, "/", "secretsmanager." + action, body, s_.region,
                                           "secretsmanager", *creds,
                                           static_cast<long long>(std::time(nullptr)));
    auto r = cloud::call(s_.endpoint, s_.http, who, "POST", "/", std::move(headers), body);
    if (!r) return r.error();
    if (r->status != 200) return cloud::answer_error(*r, who, action);
    return std::move(r->json);
  }

  settings s_;
};

}  // namespace

config_schema aws_sm_schema() {
  return {{
      {"region", field_type::string, true, false, "AWS region, e.g. us-east-1"},
      {"access_key_id", field_type::string, false, false,
       "IAM access key id (default: the AWS credential chain: environment, shared files, "
       "instance metadata)"},
      {"secret_access_key", field_type::string, false, true, "IAM secret access key"},
      {"session_token", field_type::string, false, true, "STS session token, for temporary keys"},
      {"profile", field_type::string, false, false,
       "shared credentials/config file profile (default AWS_PROFILE, else default)"},
      {"tag_filter", field_type::string, false, false,
       "key=value tag a secret must carry (default type=certificate; \"\" = none)"},
      {"name_prefix", field_type::string, false, false, "only secrets whose name starts so"},
      {"endpoint_url", field_type::string, false, false,
       "API endpoint (default https://secretsmanager.{region}.amazonaws.com)"},
      {"ca_bundle_path", field_type::string, false, false, "PEM trust anchors of the endpoint"},
  }};
}

certctl::result<std::shared_ptr<discovery_source>, connector_error> make_aws_sm_source(
    const connector_settings& in, const builtin_context& context) {
  settings s;
  s.id = in.id;
  s.region = in.config.str("region");
  for (char c : s.region)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
      return connector_error{connector_errc::invalid_config, "region is not an AWS region name"};
  cloud_auth::aws_chain_options chain;
  chain.configured.access_key_id = in.config.str("access_key_id");
  chain.configured.secret_access_key = in.config.str("secret_access_key");
  chain.configured.session_token = in.config.str("session_token");
  chain.profile = in.config.str("profile");
  chain.transport.allow = context.outbound_allow;
  chain.transport.timeout = std::chrono::seconds(2);
  s.credentials = std::make_shared<cloud_auth::aws_credential_chain>(std::move(chain));
  const std::string tag = in.config.str("tag_filter", "type=certificate");
  if (!tag.empty()) {
    const auto eq = tag.find('=');
    s.tag_key = tag.substr(0, eq);
    if (eq != std::string::npos) s.tag_value = tag.substr(eq + 1);
    if (s.tag_key.empty())
      return connector_error{connector_errc::invalid_config, "tag_filter must be key=value"};
  }
  s.name_prefix = in.config.str("name_prefix");
  auto url = cloud::parse_https_url(
      in.config.str("endpoint_url", "https://secretsmanager." + s.region + ".amazonaws.com"),
      "endpoint_url");
  if (!url) return url.error();
  s.endpoint = *url;
  s.http.allow = context.outbound_allow;
  s.http.ca_bundle_path = in.config.str("ca_bundle_path");
  return std::shared_ptr<discovery_source>(std::make_shared<aws_sm_source>(std::move(s)));
}

}  // namespace certctl::connectors::aws_sm

namespace certctl::connectors {

certctl::result<done, std::string> register_aws_sm_discovery(connector_registry& registry,
                                                             const builtin_context& context) {
  discovery_registration r;
  r.type = aws_sm::type_name;
  r.description = "certificates stored as secrets in AWS Secrets Manager (SigV4)";
  r.schema = aws_sm::aws_sm_schema();
  r.make = [context](const connector_settings& s) {
    return aws_sm::make_aws_sm_source(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
