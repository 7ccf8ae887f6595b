#pragma once
/// Due work for the scheduler loops, read from the entity read models (`certificates`, `jobs`,
/// `resources`; entity_projections.hpp): renewal candidates, expired short-lived certificates,
/// renewal policies, due and stuck jobs, silent agents.
///
/// Plain query functions: the loops' interface (actors/schedulers/due_work_source.hpp) belongs
/// to actors/, which projections/ must not include, so the server adapts these rows to it
/// (tools/server/due_work_adapter.hpp). Every list returns at most `limit` rows (at least one),
/// the most overdue first. Thread-safe: sql::database pools its connections.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// An Active or Expiring certificate with a known expiry.
struct due_certificate_row {
  std::string id;
  std::string status;  ///< Active | Expiring
  events::timestamp_us expires_at = 0;
  std::string expires_at_text;  ///< RFC 3339 as recorded
  std::string renewal_policy_id;
  std::string certificate_profile_id;
};

/// The fields of a renewal policy the loops act on; an absent field keeps the entity's default.
struct renewal_policy_row {
  std::string id;
  std::int64_t renewal_window_days = 30;
  bool auto_renew = true;
  std::int64_t max_retries = 3;
  std::int64_t retry_interval_seconds = 3600;
  std::int64_t alert_window_days = 30;  ///< the largest of alert_thresholds_days
};

struct due_job_row {
  std::string id;
  std::string type;    ///< Issuance | Renewal | Deployment | Validation
  std::string status;  ///< Pending | AwaitingCSR | Running
  std::string certificate_id;
  std::int64_t attempts = 0;
  events::timestamp_us created_at = 0;
  events::timestamp_us scheduled_at = 0;  ///< next attempt; 0 when unknown
  events::timestamp_us started_at = 0;    ///< of the current attempt; 0 unless Running
};

struct silent_agent_row {
  std::string id;
  events::timestamp_us last_heartbeat_at = 0;
};

/// Active or Expiring certificates with expires_at <= horizon (past ones included).
db_result<std::vector<due_certificate_row>> certificates_expiring_by(sql::database& db,
                                                                     events::timestamp_us horizon,
                                                                     size_t limit);

/// Active or Expiring certificates whose profile has allow_short_lived, expires_at <= now.
db_result<std::vector<due_certificate_row>> short_lived_expired_by(sql::database& db,
                                                                   events::timestamp_us now,
                                                                   size_t limit);

/// Every non-deleted renewal policy, by id.
db_result<std::vector<renewal_policy_row>> renewal_policies(sql::database& db);

/// One non-deleted renewal policy; nullopt when there is none.
db_result<std::optional<renewal_policy_row>> renewal_policy(sql::database& db,
                                                            const std::string& id);

/// Pending jobs with scheduled_at <= now (or none).
db_result<std::vector<due_job_row>> pending_jobs_due(sql::database& db, events::timestamp_us now,
                                                     size_t limit);

/// AwaitingCSR jobs created, and (after a retry) scheduled, before `before`.
db_result<std::vector<due_job_row>> jobs_awaiting_csr_since(sql::database& db,
                                                            events::timestamp_us before,
                                                            size_t limit);

/// Running jobs whose current attempt started before `before`.
db_result<std::vector<due_job_row>> jobs_running_since(sql::database& db,
                                                       events::timestamp_us before, size_t limit);

/// Online, non-retired, non-deleted agents whose last heartbeat is before `before`.
db_result<std::vector<silent_agent_row>> agents_silent_since(sql::database& db,
                                                             events::timestamp_us before,
                                                             size_t limit);

}  // namespace certctl::projections
