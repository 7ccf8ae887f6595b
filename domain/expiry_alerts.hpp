#pragma once
/// Expiry alert routing of a renewal policy (docs/notifications.md "Expiry alerts"): which
/// threshold a certificate has crossed, the severity tier of that threshold, and the channels
/// of that tier.
///
///   days left <= threshold?  --alert_severity_map-->  informational | warning | critical
///                            --alert_channels[tier]-->  ["Slack", "Email", ...]
///
/// Defaults: thresholds 30, 14, 7, 0 days; 30 informational, 14 and 7 warning, 0 critical
/// (any other threshold: informational above 14 days, warning above 0, else critical); a tier
/// without channels goes to Email. Pure functions over the policy document, so the write-time
/// check, the loop and the tests agree.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/aggregate.hpp"
#include "events/event.hpp"
#include "events/json.hpp"

namespace certctl::domain {

/// A certificate the expiry alert loop looks at (Active or Expiring, expiry known).
struct alert_certificate {
  std::string id;
  std::string common_name;
  events::timestamp_us expires_at = 0;
  std::string expires_at_text;  ///< as recorded; part of the alert ids (a renewal starts over)
  std::string renewal_policy_id;
  std::string owner_id;
  std::string owner_email;  ///< "" when the owner has none (Email then uses its configured list)
};

struct alert_policy {
  std::vector<std::int64_t> thresholds_days{30, 14, 7, 0};
  std::map<std::int64_t, std::string> severity_map;          ///< threshold -> tier
  std::map<std::string, std::vector<std::string>> channels;  ///< tier -> channels
  /// notify_on_failure_only: event-driven notifications skip successes (renewal, deployment).
  bool failure_only = false;
};

/// The alert settings of a renewal policy document (its API view); defaults when absent.
alert_policy alert_policy_of(const events::json_object& policy);

/// Write-time check of the alert fields of a renewal policy: thresholds 0-365, at most 16;
/// severity map keys numeric, values informational | warning | critical; channel matrix keys
/// the three tiers, values known channels. The error names the bad value.
std::optional<domain_error> check_alert_settings(const events::json_object& policy);

/// The most urgent threshold crossed (the smallest t with days left <= t), nullopt when none.
/// Days left are whole days, rounded down: 29.5 days left is 29.
std::optional<std::int64_t> crossed_threshold(const alert_policy& p, events::timestamp_us now,
                                              events::timestamp_us expires_at);

/// The tier of `threshold` (informational, warning, critical).
std::string severity_tier(const alert_policy& p, std::int64_t threshold);

/// The channels of `tier`, each once; Email when the policy names none for it.
std::vector<std::string> alert_channels(const alert_policy& p, const std::string& tier);

/// The notifier severity of a tier: informational -> info.
std::string notification_severity(const std::string& tier);

}  // namespace certctl::domain
