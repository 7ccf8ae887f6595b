#pragma once
/// The expiry alert loop: for every Active or Expiring certificate, the most urgent threshold
/// of its renewal policy it has crossed (domain/expiry_alerts.hpp) gives a severity tier, and
/// the tier's channels each get one ExpirationWarning notification (notification.create).
///
/// Each (certificate, expiry, threshold, channel) is its own notification id, so each is
/// queued once, independently: a failing PagerDuty does not hold back Slack, a later tick does
/// not queue the same alert again, and a renewed certificate (new expiry) starts over.
/// Delivery and its retries are the delivery loop's (notification_delivery.hpp).

#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/notification_source.hpp"
#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

struct expiry_alert_options {
  size_t batch = 1000;
};

/// The notification id of one alert: "exp-" + 32 hex of SHA-256 over its four parts.
std::string expiry_alert_id(const std::string& certificate_id, const std::string& expires_at,
                            std::int64_t threshold, const std::string& channel);

class expiry_alerts {
 public:
  expiry_alerts(actors::entity_runtime& runtime, notification_source& source,
                expiry_alert_options options = {});

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  notification_source& source_;
  expiry_alert_options options_;
};

}  // namespace certctl::schedulers
