#pragma once
/// The registration functions of the six built-in notifiers (each defined in its folder and
/// listed in builtin_connectors.def), declared for tests that register one notifier alone.

#include <string>

#include "connectors/builtin.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

certctl::result<done, std::string> register_email_notifier(connector_registry&,
                                                           const builtin_context&);
certctl::result<done, std::string> register_webhook_notifier(connector_registry&,
                                                             const builtin_context&);
certctl::result<done, std::string> register_slack_notifier(connector_registry&,
                                                           const builtin_context&);
certctl::result<done, std::string> register_teams_notifier(connector_registry&,
                                                           const builtin_context&);
certctl::result<done, std::string> register_pagerduty_notifier(connector_registry&,
                                                               const builtin_context&);
certctl::result<done, std::string> register_opsgenie_notifier(connector_registry&,
                                                              const builtin_context&);

}  // namespace certctl::connectors
