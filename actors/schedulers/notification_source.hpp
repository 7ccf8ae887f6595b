#pragma once
/// What the notification loops ask the read side: certificates near expiry with their owner's
/// email, the renewal policies' alert settings, the notifications due for delivery. An
/// interface so actors/ does not depend on projections/; the server implements it over the
/// read models (tools/server/notification_source_adapter.hpp), tests may fake it.
///
/// Answers may lag the log; the loops cope: an alert is named after what it is about (creating
/// it twice is refused), and delivery re-reads the notification entity before sending.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/schedulers/due_work_source.hpp"
#include "domain/expiry_alerts.hpp"
#include "events/json.hpp"

namespace certctl::schedulers {

class notification_source {
 public:
  virtual ~notification_source() = default;

  /// Active or Expiring certificates with expires_at <= horizon, soonest first.
  virtual source_result<std::vector<domain::alert_certificate>> alert_candidates(
      events::timestamp_us horizon, size_t limit) = 0;

  /// Every renewal policy: id -> API document.
  virtual source_result<std::map<std::string, events::json_object>> renewal_policies() = 0;

  /// Pending or failed notifications with next_retry_at <= now, most overdue first: ids.
  virtual source_result<std::vector<std::string>> due_notifications(events::timestamp_us now,
                                                                    size_t limit) = 0;
};

}  // namespace certctl::schedulers
