#pragma once
/// The server-wide notification channels and the digest, from the reference's environment
/// variables (docs/notifications.md). A channel is on when its enabling variable is set
/// (CERTCTL_SMTP_HOST, CERTCTL_WEBHOOK_URL, CERTCTL_SLACK_WEBHOOK_URL,
/// CERTCTL_TEAMS_WEBHOOK_URL, CERTCTL_PAGERDUTY_ROUTING_KEY, CERTCTL_OPSGENIE_API_KEY).
/// Validated at start like the rest of server_config: the error names the variable.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::infra {

struct config_error;

struct notification_config {
  std::string smtp_host;  ///< CERTCTL_SMTP_HOST; "" = no Email channel
  int smtp_port = 587;    ///< CERTCTL_SMTP_PORT
  std::string smtp_username;
  std::string smtp_password;  ///< secret: never logged
  std::string smtp_from_address;
  bool smtp_use_tls = true;    ///< CERTCTL_SMTP_USE_TLS
  std::string smtp_ca_bundle;  ///< CERTCTL_SMTP_CA_BUNDLE: trust for the SMTP server

  std::string webhook_url;     ///< CERTCTL_WEBHOOK_URL
  std::string webhook_secret;  ///< CERTCTL_WEBHOOK_SECRET (HMAC-SHA256 key); secret
  /// CERTCTL_WEBHOOK_EVENT_TYPES: comma-separated event types the webhook subscribes to.
  std::vector<std::string> webhook_event_types;

  std::string slack_webhook_url;  ///< CERTCTL_SLACK_WEBHOOK_URL; secret
  std::string slack_channel;      ///< CERTCTL_SLACK_CHANNEL
  std::string slack_username;     ///< CERTCTL_SLACK_USERNAME

  std::string teams_webhook_url;  ///< CERTCTL_TEAMS_WEBHOOK_URL; secret

  std::string pagerduty_routing_key;  ///< CERTCTL_PAGERDUTY_ROUTING_KEY; secret
  std::string pagerduty_severity;     ///< CERTCTL_PAGERDUTY_SEVERITY; "" = from the alert
  std::string pagerduty_events_url;   ///< CERTCTL_PAGERDUTY_EVENTS_URL; "" = PagerDuty's

  std::string opsgenie_api_key;   ///< CERTCTL_OPSGENIE_API_KEY; secret
  std::string opsgenie_priority;  ///< CERTCTL_OPSGENIE_PRIORITY; "" = from the alert
  std::string opsgenie_api_url;   ///< CERTCTL_OPSGENIE_API_URL; "" = OpsGenie's

  /// CERTCTL_NOTIFY_CA_BUNDLE: PEM bundle the HTTP channels trust; "" = system store.
  std::string http_ca_bundle;

  /// CERTCTL_EXPIRY_ALERT_INTERVAL: how often the expiry alert loop looks (default 10m).
  std::int64_t expiry_alert_interval_seconds = 600;
  /// CERTCTL_NOTIFICATION_INTERVAL: how often due notifications are sent or retried (30s).
  std::int64_t notification_interval_seconds = 30;

  bool digest_enabled = false;                   ///< CERTCTL_DIGEST_ENABLED
  std::int64_t digest_interval_seconds = 86400;  ///< CERTCTL_DIGEST_INTERVAL (24h, 7d, 90m, 30s)
  std::vector<std::string> digest_recipients;    ///< CERTCTL_DIGEST_RECIPIENTS; "" = owners
};

/// Reads the variables above; the first bad one is reported by name.
result<notification_config, std::string> load_notification_config(
    const std::function<const char*(const char*)>& getenv_fn);

}  // namespace certctl::infra
