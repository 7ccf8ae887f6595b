#pragma once
/// The notifications read model: one row per notification (status, channel, certificate,
/// next_retry_at as microseconds for the retry loop's "what is due" query, the API `doc`),
/// folded with domain::fold_notification. Reads for GET /api/v1/notifications, the delivery
/// loop and the dead-letter gauge.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/expiry_alerts.hpp"
#include "events/json.hpp"
#include "projections/entity_queries.hpp"
#include "projections/projection.hpp"

namespace certctl::projections {

class notification_projection final : public projection {
 public:
  std::string name() const override { return "notifications"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

struct notification_filter {
  std::optional<std::string> status;  ///< pending, sent, failed, dead, read
  std::optional<std::string> channel;
  std::optional<std::string> certificate_id;
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// Newest first.
db_result<json_page> list_notifications(sql::database& db, const notification_filter& f);
db_result<std::optional<std::string>> get_notification(sql::database& db, const std::string& id);

/// Pending or failed notifications whose next_retry_at is at or before `now_us`, oldest due
/// first, at most `limit`: their ids.
db_result<std::vector<std::string>> due_notifications(sql::database& db, std::int64_t now_us,
                                                      std::int64_t limit);

/// Notifications with status dead (the dead-letter gauge).
db_result<std::int64_t> count_dead_notifications(sql::database& db);

/// Active or Expiring certificates with expires_at <= horizon, soonest first, at most `limit`,
/// with their owner's email (from the owners read model) for Email alerts.
db_result<std::vector<domain::alert_certificate>> alert_candidates(sql::database& db,
                                                                   std::int64_t horizon_us,
                                                                   std::int64_t limit);

/// Every renewal policy that is not deleted: id -> API document.
db_result<std::map<std::string, events::json_object>> renewal_policy_docs(sql::database& db);

}  // namespace certctl::projections
