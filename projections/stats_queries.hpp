#pragma once
/// Aggregations over the entity read models (entity_projections.hpp) for the dashboard charts
/// (GET /api/v1/stats/certificates-by-status, /expiration-timeline, /job-trends,
/// /issuance-rate), plus the certificate selection behind POST /api/v1/certificates/bulk-renew.
///
/// Day buckets are UTC calendar days. Every series is dense (a bucket for each day of the
/// window, zero when nothing happened) so a chart needs no gap filling, and each is at most
/// max_stats_days long.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// The API's bound on the `days` parameter of the stats routes.
inline constexpr std::int64_t max_stats_days = 365;

struct status_count {
  std::string status;
  std::int64_t count = 0;
  bool operator==(const status_count& o) const { return status == o.status && count == o.count; }
};

/// Certificates per status (every status present in the read model, ordered by name).
db_result<std::vector<status_count>> certificates_by_status(sql::database& db);
/// {"status_counts": [{"status", "count"}...]}
std::string status_counts_json(const std::vector<status_count>& counts);

/// One UTC day of a series: `date` is "YYYY-MM-DD"; `failed` is used by job trends only.
struct day_bucket {
  std::string date;
  std::int64_t count = 0;
  std::int64_t failed = 0;
  bool operator==(const day_bucket& o) const {
    return date == o.date && count == o.count && failed == o.failed;
  }
};

/// Active or Expiring certificates whose expiry falls on each of the `days` days starting
/// today (the day of `now`); already expired ones (expires_at < now) are not counted.
/// invalid_argument unless 1 <= days <= max_stats_days.
db_result<std::vector<day_bucket>> expiration_timeline(sql::database& db, events::timestamp_us now,
                                                       std::int64_t days);

/// Jobs that finished Completed (`count`) or Failed (`failed`) on each of the last `days` days,
/// today included, by the time of their last change. invalid_argument as above.
db_result<std::vector<day_bucket>> job_trends(sql::database& db, events::timestamp_us now,
                                              std::int64_t days);

/// Certificate versions issued on each of the last `days` days, today included.
/// invalid_argument as above.
db_result<std::vector<day_bucket>> issuance_rate(sql::database& db, events::timestamp_us now,
                                                 std::int64_t days);

/// {"<key>": [{"date", "count"}...]} for the timeline ("buckets") and the rate ("rate").
std::string day_counts_json(const char* key, const std::vector<day_bucket>& buckets);
/// {"trends": [{"date", "completed", "failed"}...]}
std::string job_trends_json(const std::vector<day_bucket>& buckets);

// ---- selection for bulk operations ---------------------------------------------------------

/// BulkRenewRequest's criteria; set ones combine with AND. agent_id matches certificates that
/// have a job assigned to that agent.
struct certificate_selector {
  std::optional<std::string> profile_id;
  std::optional<std::string> owner_id;
  std::optional<std::string> agent_id;
  std::optional<std::string> issuer_id;
  std::optional<std::string> team_id;
  /// Set: only these ids (still filtered by the criteria above).
  std::optional<std::vector<std::string>> ids;
  bool empty() const {
    return !profile_id && !owner_id && !agent_id && !issuer_id && !team_id && !ids;
  }
};

/// Ids of the certificates matching `s`, oldest first, at most `limit` + 1 of them (so a
/// caller can tell "more than limit"). invalid_argument for an empty selector: a bulk
/// operation without criteria would touch every certificate.
db_result<std::vector<std::string>> select_certificate_ids(sql::database& db,
                                                           const certificate_selector& s,
                                                           std::int64_t limit);

}  // namespace certctl::projections
