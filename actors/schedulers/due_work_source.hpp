#pragma once
/// What the scheduler loops ask the read side: which certificates, jobs and agents are due for
/// action at a given time. An interface so actors/ does not depend on projections/; the server
/// implements it over the read models (tools/server/due_work_adapter.hpp over the queries of
/// projections/due_work_queries.hpp), tests may fake it.
///
/// Answers may lag the log a little (projections are eventually consistent). The loops are
/// written for that: every command they send carries a deterministic command id, so acting
/// twice on a stale answer (or on two nodes at once) writes nothing the second time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/due_work.hpp"
#include "events/event.hpp"
#include "events/result.hpp"

namespace certctl::schedulers {

struct source_error {
  std::string message;
};

template <class T>
using source_result = result<T, source_error>;

using domain::due_certificate;
using domain::due_job;
using domain::renewal_policy_info;
using domain::silent_agent;

/// Every query returns at most `limit` rows, the most overdue first, so one tick stays short;
/// the next tick picks up the rest.
class due_work_source {
 public:
  virtual ~due_work_source() = default;

  /// Active or Expiring certificates with expires_at <= horizon (including past ones).
  virtual source_result<std::vector<due_certificate>> certificates_expiring_by(
      events::timestamp_us horizon, size_t limit) = 0;

  /// Active or Expiring certificates whose profile has allow_short_lived, expires_at <= now.
  virtual source_result<std::vector<due_certificate>> short_lived_expired_by(
      events::timestamp_us now, size_t limit) = 0;

  /// Every (non-deleted) renewal policy.
  virtual source_result<std::vector<renewal_policy_info>> renewal_policies() = 0;

  /// One renewal policy; nullopt when it does not exist.
  virtual source_result<std::optional<renewal_policy_info>> renewal_policy(
      const std::string& id) = 0;

  /// Pending jobs with scheduled_at <= now.
  virtual source_result<std::vector<due_job>> pending_jobs_due(events::timestamp_us now,
                                                               size_t limit) = 0;

  /// AwaitingCSR jobs waiting since before `before`: created, and (after a retry) scheduled,
  /// earlier than it.
  virtual source_result<std::vector<due_job>> jobs_awaiting_csr_since(events::timestamp_us before,
                                                                      size_t limit) = 0;

  /// Running jobs whose current attempt started before `before`.
  virtual source_result<std::vector<due_job>> jobs_running_since(events::timestamp_us before,
                                                                 size_t limit) = 0;

  /// Running jobs whose asynchronous CA order is pending and due for a poll (scheduled_at <=
  /// now). A source that knows no asynchronous orders has none due.
  virtual source_result<std::vector<due_job>> jobs_awaiting_order_due(events::timestamp_us now,
                                                                      size_t limit) {
    (void)now;
    (void)limit;
    return std::vector<due_job>{};
  }

  /// Online, non-retired agents whose last heartbeat is before `before`.
  virtual source_result<std::vector<silent_agent>> agents_silent_since(events::timestamp_us before,
                                                                       size_t limit) = 0;
};

}  // namespace certctl::schedulers
