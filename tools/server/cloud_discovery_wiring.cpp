#include "tools/server/cloud_discovery_wiring.hpp"

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "actors/schedulers/cloud_discovery.hpp"
#include "connectors/registry.hpp"
#include "infra/clock.hpp"
#include "infra/config.hpp"

namespace certctl::server {

struct cloud_discovery_service::impl {
  impl(actors::entity_runtime& runtime, const infra::clock& clock,
       std::vector<schedulers::cloud_discovery_source> sources, std::chrono::seconds every)
      : loop(runtime, std::move(sources)), clock(clock), every(every) {}

  schedulers::cloud_discovery_loop loop;
  const infra::clock& clock;
  std::chrono::seconds every;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      lock.unlock();
      const auto report = loop.tick(clock.now());
      std::cout << "scheduler " << schedulers::summary(report) << std::endl;
      lock.lock();
      wake.wait_for(lock, every, [this] { return stopping; });
    }
  }
};

namespace {

using made = result<std::shared_ptr<connectors::discovery_source>, std::string>;

made build(const connectors::connector_registry& registry, const char* type, const std::string& id,
           events::json_object config) {
  const auto* reg = registry.find_discovery(type);
  if (reg == nullptr) return std::string(type) + " is not registered";
  if (auto valid = connectors::validate_config(reg->schema, config); !valid)
    return std::string(type) + ": " + valid.error().message;
  auto source = reg->make({id, std::move(config)});
  if (!source) return std::string(type) + ": " + source.error().message;
  return *source;
}

}  // namespace

result<std::unique_ptr<cloud_discovery_service>, std::string> cloud_discovery_service::make(
    const infra::server_config& cfg, const connectors::connector_registry& registry,
    const infra::clock& clock, actors::entity_runtime& runtime) {
  const auto& c = cfg.cloud_discovery;
  std::vector<schedulers::cloud_discovery_source> sources;
  if (!c.enabled) return std::unique_ptr<cloud_discovery_service>();
  auto common = [&](events::json_object& o) {
    if (!c.ca_bundle_path.empty()) o.set("ca_bundle_path", c.ca_bundle_path);
  };
  if (c.aws_enabled) {
    events::json_object o;
    o.set("region", c.aws_region).set("tag_filter", c.aws_tag_filter);
    if (!c.aws_access_key_id.empty()) o.set("access_key_id", c.aws_access_key_id);
    if (!c.aws_secret_access_key.empty()) o.set("secret_access_key", c.aws_secret_access_key);
    if (!c.aws_session_token.empty()) o.set("session_token", c.aws_session_token);
    if (!c.aws_name_prefix.empty()) o.set("name_prefix", c.aws_name_prefix);
    if (!c.aws_endpoint_url.empty()) o.set("endpoint_url", c.aws_endpoint_url);
    common(o);
    auto s = build(registry, "AWSSecretsManager", "cloud-aws-sm", std::move(o));
    if (!s) return s.error();
    sources.push_back({"aws-secrets-manager", "cloud-aws-sm", *s});
  }
  if (c.azure_enabled) {
    events::json_object o;
    o.set("vault_url", c.azure_vault_url)
        .set("tenant_id", c.azure_tenant_id)
        .set("client_id", c.azure_client_id)
        .set("client_secret", c.azure_client_secret);
    if (!c.azure_authority_url.empty()) o.set("authority_url", c.azure_authority_url);
    common(o);
    auto s = build(registry, "AzureKeyVault", "cloud-azure-kv", std::move(o));
    if (!s) return s.error();
    sources.push_back({"azure-key-vault", "cloud-azure-kv", *s});
  }
  if (c.gcp_enabled) {
    std::ifstream in(c.gcp_credentials, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return "CERTCTL_GCP_SM_CREDENTIALS: cannot read " + c.gcp_credentials;
    events::json_object o;
    o.set("project", c.gcp_project).set("credentials_json", text.str());
    if (!c.gcp_api_url.empty()) o.set("api_url", c.gcp_api_url);
    common(o);
    auto s = build(registry, "GCPSecretManager", "cloud-gcp-sm", std::move(o));
    if (!s) return s.error();
    sources.push_back({"gcp-secret-manager", "cloud-gcp-sm", *s});
  }
  if (sources.empty()) return std::unique_ptr<cloud_discovery_service>();
  return std::make_unique<cloud_discovery_service>(std::make_unique<impl>(
      runtime, clock, std::move(sources), std::chrono::seconds(c.interval_seconds)));
}

cloud_discovery_service::cloud_discovery_service(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

cloud_discovery_service::~cloud_discovery_service() {
  stop();
}

void cloud_discovery_service::start() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->thread = std::thread([p = impl_.get()] { p->run(); });
}

void cloud_discovery_service::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string cloud_discovery_service::source_list() const {
  std::string out;
  for (const auto& s : impl_->loop.sources()) out += (out.empty() ? "" : ", ") + s.source;
  return out;
}

}  // namespace certctl::server
