#include "connectors/notifiers/common/channel_set.hpp"

namespace certctl::connectors {

std::vector<channel_config> env_channel_configs(const infra::notification_config& env) {
  std::vector<channel_config> out;
  auto add = [&out](const char* type, const char* id, events::json_object cfg) {
    out.push_back({type, id, std::move(cfg)});
  };
  auto with_bundle = [&env](events::json_object& cfg) {
    if (!env.http_ca_bundle.empty()) cfg.set("ca_bundle_path", env.http_ca_bundle);
  };
  if (!env.smtp_host.empty()) {
    events::json_object c;
    c.set("host", env.smtp_host)
        .set("port", env.smtp_port)
        .set("from_address", env.smtp_from_address)
        .set("use_tls", env.smtp_use_tls);
    if (!env.smtp_username.empty()) c.set("username", env.smtp_username);
    if (!env.smtp_password.empty()) c.set("password", env.smtp_password);
    if (!env.smtp_ca_bundle.empty()) c.set("ca_bundle_path", env.smtp_ca_bundle);
    add("Email", "env-email", std::move(c));
  }
  if (!env.webhook_url.empty()) {
    events::json_object c;
    c.set("url", env.webhook_url);
    if (!env.webhook_secret.empty()) c.set("secret", env.webhook_secret);
    if (!env.webhook_event_types.empty()) c.set("event_types", env.webhook_event_types);
    with_bundle(c);
    add("Webhook", "env-webhook", std::move(c));
  }
  if (!env.slack_webhook_url.empty()) {
    events::json_object c;
    c.set("webhook_url", env.slack_webhook_url);
    if (!env.slack_channel.empty()) c.set("channel", env.slack_channel);
    if (!env.slack_username.empty()) c.set("username", env.slack_username);
    with_bundle(c);
    add("Slack", "env-slack", std::move(c));
  }
  if (!env.teams_webhook_url.empty()) {
    events::json_object c;
    c.set("webhook_url", env.teams_webhook_url);
    with_bundle(c);
    add("Teams", "env-teams", std::move(c));
  }
  if (!env.pagerduty_routing_key.empty()) {
    events::json_object c;
    c.set("routing_key", env.pagerduty_routing_key);
    if (!env.pagerduty_severity.empty()) c.set("severity", env.pagerduty_severity);
    if (!env.pagerduty_events_url.empty()) c.set("events_url", env.pagerduty_events_url);
    with_bundle(c);
    add("PagerDuty", "env-pagerduty", std::move(c));
  }
  if (!env.opsgenie_api_key.empty()) {
    events::json_object c;
    c.set("api_key", env.opsgenie_api_key);
    if (!env.opsgenie_priority.empty()) c.set("priority", env.opsgenie_priority);
    if (!env.opsgenie_api_url.empty()) c.set("api_url", env.opsgenie_api_url);
    with_bundle(c);
    add("OpsGenie", "env-opsgenie", std::move(c));
  }
  return out;
}

void channel_set::add(std::shared_ptr<notifier> n) {
  const std::string channel(n->channel());
  by_channel_[channel] = std::move(n);
}

std::shared_ptr<notifier> channel_set::find(const std::string& channel) const {
  auto it = by_channel_.find(channel);
  return it == by_channel_.end() ? nullptr : it->second;
}

std::vector<std::string> channel_set::channels() const {
  std::vector<std::string> out;
  for (const auto& [c, n] : by_channel_) out.push_back(c);
  return out;
}

certctl::result<channel_set, std::string> make_channels(
    const connector_registry& registry, const std::vector<channel_config>& configs) {
  channel_set set;
  for (const auto& c : configs) {
    const auto* reg = registry.find_notifier(c.type);
    if (reg == nullptr) return "notifier type " + c.type + " is not registered";
    if (auto v = validate_config(reg->schema, c.config); !v)
      return c.type + " channel: " + v.error().message;
    auto made = reg->make({c.id, c.config});
    if (!made) return c.type + " channel: " + made.error().message;
    set.add(std::move(*made));
  }
  return set;
}

}  // namespace certctl::connectors
