#include "infra/notification_config.hpp"

#include "infra/duration.hpp"

#include <sstream>

namespace certctl::infra {

namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    out.push_back(item.substr(b, item.find_last_not_of(" \t") - b + 1));
  }
  return out;
}

}  // namespace

result<notification_config, std::string> load_notification_config(
    const std::function<const char*(const char*)>& getenv_fn) {
  notification_config c;
  auto str = [&](const char* name, std::string& out) {
    if (const char* v = getenv_fn(name); v != nullptr && *v != '\0') out = v;
  };
  auto flag = [&](const char* name, bool& out) -> std::string {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return "";
    const std::string s = v;
    if (s == "true" || s == "1")
      out = true;
    else if (s == "false" || s == "0")
      out = false;
    else
      return std::string(name) + "=" + s + " must be true or false";
    return "";
  };
  str("CERTCTL_SMTP_HOST", c.smtp_host);
  if (const char* v = getenv_fn("CERTCTL_SMTP_PORT"); v && *v) {
    const std::string text = v;
    const bool digits =
        text.size() <= 5 && text.find_first_not_of("0123456789") == std::string::npos;
    const long n = digits ? std::stol(text) : 0;
    if (!digits || n < 1 || n > 65535)
      return std::string("CERTCTL_SMTP_PORT=") + v + " must be 1-65535";
    c.smtp_port = static_cast<int>(n);
  }
  str("CERTCTL_SMTP_USERNAME", c.smtp_username);
  str("CERTCTL_SMTP_PASSWORD", c.smtp_password);
  str("CERTCTL_SMTP_FROM_ADDRESS", c.smtp_from_address);
  str("CERTCTL_SMTP_CA_BUNDLE", c.smtp_ca_bundle);
  if (auto e = flag("CERTCTL_SMTP_USE_TLS", c.smtp_use_tls); !e.empty()) return e;
  if (!c.smtp_host.empty() && c.smtp_from_address.empty())
    return std::string("CERTCTL_SMTP_FROM_ADDRESS is required when CERTCTL_SMTP_HOST is set");
  if (!c.smtp_username.empty() && !c.smtp_use_tls)
    return std::string(
        "CERTCTL_SMTP_USERNAME needs CERTCTL_SMTP_USE_TLS=true: credentials are never sent in "
        "clear text");

  str("CERTCTL_WEBHOOK_URL", c.webhook_url);
  str("CERTCTL_WEBHOOK_SECRET", c.webhook_secret);
  if (const char* v = getenv_fn("CERTCTL_WEBHOOK_EVENT_TYPES"); v && *v)
    c.webhook_event_types = split_list(v);
  str("CERTCTL_SLACK_WEBHOOK_URL", c.slack_webhook_url);
  str("CERTCTL_SLACK_CHANNEL", c.slack_channel);
  str("CERTCTL_SLACK_USERNAME", c.slack_username);
  str("CERTCTL_TEAMS_WEBHOOK_URL", c.teams_webhook_url);
  str("CERTCTL_PAGERDUTY_ROUTING_KEY", c.pagerduty_routing_key);
  str("CERTCTL_PAGERDUTY_SEVERITY", c.pagerduty_severity);
  str("CERTCTL_PAGERDUTY_EVENTS_URL", c.pagerduty_events_url);
  if (const auto& s = c.pagerduty_severity;
      !s.empty() && s != "critical" && s != "error" && s != "warning" && s != "info")
    return "CERTCTL_PAGERDUTY_SEVERITY=" + s + " must be critical, error, warning or info";
  str("CERTCTL_OPSGENIE_API_KEY", c.opsgenie_api_key);
  str("CERTCTL_OPSGENIE_PRIORITY", c.opsgenie_priority);
  str("CERTCTL_OPSGENIE_API_URL", c.opsgenie_api_url);
  if (const auto& p = c.opsgenie_priority;
      !p.empty() && (p.size() != 2 || p[0] != 'P' || p[1] < '1' || p[1] > '5'))
    return "CERTCTL_OPSGENIE_PRIORITY=" + p + " must be P1-P5";
  str("CERTCTL_NOTIFY_CA_BUNDLE", c.http_ca_bundle);

  for (auto [name, out] : {std::pair<const char*, std::int64_t*>{"CERTCTL_EXPIRY_ALERT_INTERVAL",
                                                                 &c.expiry_alert_interval_seconds},
                           {"CERTCTL_NOTIFICATION_INTERVAL", &c.notification_interval_seconds}}) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') continue;
    const auto s = parse_duration_seconds(v).value_or(-1);
    if (s < 1 || s > 86400)
      return std::string(name) + "=" + v + " must be a duration between 1s and 1d (e.g. 30s)";
    *out = s;
  }
  if (auto e = flag("CERTCTL_DIGEST_ENABLED", c.digest_enabled); !e.empty()) return e;
  if (const char* v = getenv_fn("CERTCTL_DIGEST_INTERVAL"); v && *v) {
    const auto s = parse_duration_seconds(v).value_or(-1);
    if (s < 60 || s > 366LL * 86400)
      return std::string("CERTCTL_DIGEST_INTERVAL=") + v +
             " must be a duration between 1m and 366d (e.g. 24h, 7d)";
    c.digest_interval_seconds = s;
  }
  if (const char* v = getenv_fn("CERTCTL_DIGEST_RECIPIENTS"); v && *v)
    c.digest_recipients = split_list(v);
  return c;
}

}  // namespace certctl::infra
