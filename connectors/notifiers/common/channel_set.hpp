#pragma once
/// The notifiers the server delivers through, one per channel ("Email", "Slack", ...), and how
/// the server-wide ones are made from the environment (CERTCTL_SMTP_*, CERTCTL_WEBHOOK_*, ...;
/// infra/notification_config.hpp): each set variable group becomes the JSON config of its
/// notifier type, checked against the registered schema like an API-supplied config.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/registry.hpp"
#include "events/json.hpp"
#include "events/result.hpp"
#include "infra/notification_config.hpp"

namespace certctl::connectors {

/// A notifier to make: its registered type, an id for logs and its config.
struct channel_config {
  std::string type;  ///< also the channel it serves
  std::string id;    ///< "env-email", "env-slack", ...
  events::json_object config;
};

/// The configs the environment asks for; a channel whose enabling variable is unset is absent.
std::vector<channel_config> env_channel_configs(const infra::notification_config& env);

class channel_set {
 public:
  /// Replaces any notifier already serving the same channel.
  void add(std::shared_ptr<notifier> n);
  /// nullptr when nothing serves `channel`.
  std::shared_ptr<notifier> find(const std::string& channel) const;
  /// Channels served, sorted.
  std::vector<std::string> channels() const;

 private:
  std::map<std::string, std::shared_ptr<notifier>> by_channel_;
};

/// Makes every notifier `configs` names through `registry`; the error names the channel and
/// the field (never a secret's value).
certctl::result<channel_set, std::string> make_channels(const connector_registry& registry,
                                                        const std::vector<channel_config>& configs);

}  // namespace certctl::connectors
