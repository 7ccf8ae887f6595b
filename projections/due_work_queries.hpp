#pragma once
/// Due work for the scheduler loops, read from the entity read models (`certificates`, `jobs`,
/// `resources`; entity_projections.hpp): renewal candidates, expired short-lived certificates,
/// renewal policies, due and stuck jobs, silent agents.
///
/// Plain query functions returning domain/due_work.hpp rows: the loops' interface
/// (actors/schedulers/due_work_source.hpp) belongs to actors/, which projections/ must not
/// include, so the server forwards these to it (tools/server/due_work_adapter.hpp). Every list
/// returns at most `limit` rows (at least one), the most overdue first. Thread-safe: sql::database
/// pools its connections.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/due_work.hpp"
#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// Active or Expiring certificates with expires_at <= horizon (past ones included).
db_result<std::vector<domain::due_certificate>> certificates_expiring_by(
    sql::database& db, events::timestamp_us horizon, size_t limit);

/// Active or Expiring certificates whose profile has allow_short_lived, expires_at <= now.
db_result<std::vector<domain::due_certificate>> short_lived_expired_by(sql::database& db,
                                                                       events::timestamp_us now,
                                                                       size_t limit);

/// Every non-deleted renewal policy, by id.
db_result<std::vector<domain::renewal_policy_info>> renewal_policies(sql::database& db);

/// One non-deleted renewal policy; nullopt when there is none.
db_result<std::optional<domain::renewal_policy_info>> renewal_policy(sql::database& db,
                                                                     const std::string& id);

/// Pending jobs with scheduled_at <= now (or none).
db_result<std::vector<domain::due_job>> pending_jobs_due(sql::database& db,
                                                         events::timestamp_us now, size_t limit);

/// AwaitingCSR jobs created, and (after a retry) scheduled, before `before`.
db_result<std::vector<domain::due_job>> jobs_awaiting_csr_since(sql::database& db,
                                                                events::timestamp_us before,
                                                                size_t limit);

/// Running jobs whose current attempt started before `before`.
db_result<std::vector<domain::due_job>> jobs_running_since(sql::database& db,
                                                           events::timestamp_us before,
                                                           size_t limit);

/// Running jobs whose asynchronous CA order is pending and due for a poll (scheduled_at <= now).
/// jobs_running_since leaves them out: their deadline is the order poller's.
db_result<std::vector<domain::due_job>> jobs_awaiting_order_due(sql::database& db,
                                                                events::timestamp_us now,
                                                                size_t limit);

/// Online, non-retired, non-deleted agents whose last heartbeat is before `before`.
db_result<std::vector<domain::silent_agent>> agents_silent_since(sql::database& db,
                                                                 events::timestamp_us before,
                                                                 size_t limit);

}  // namespace certctl::projections
