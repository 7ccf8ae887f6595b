#pragma once
/// The vocabulary of due work: what the scheduler loops act on (certificates near expiry,
/// renewal policies, due or stuck jobs, silent agents). Plain data, shared by the loops'
/// interface (actors/schedulers/due_work_source.hpp) and the queries that answer it
/// (projections/due_work_queries.hpp), so neither side keeps a copy of the other's rows.

#include <cstdint>
#include <string>

#include "events/event.hpp"

namespace certctl::domain {

/// An Active or Expiring certificate with a known expiry.
struct due_certificate {
  std::string id;
  std::string status;  ///< Active | Expiring
  events::timestamp_us expires_at = 0;
  std::string expires_at_text;  ///< RFC 3339 as recorded; part of the loops' command ids
  std::string renewal_policy_id;
  std::string certificate_profile_id;
};

/// The fields of a renewal policy the loops act on (defaults are the entity's defaults).
struct renewal_policy_info {
  std::string id;
  std::int64_t renewal_window_days = 30;
  bool auto_renew = true;
  std::int64_t max_retries = 3;
  std::int64_t retry_interval_seconds = 3600;
  std::int64_t alert_window_days = 30;  ///< the largest of alert_thresholds_days
};

struct due_job {
  std::string id;
  std::string type;    ///< Issuance | Renewal | Deployment | Validation
  std::string status;  ///< Pending | AwaitingCSR | Running
  std::string certificate_id;
  std::int64_t attempts = 0;
  events::timestamp_us created_at = 0;
  events::timestamp_us scheduled_at = 0;  ///< next attempt; 0 when unknown
  events::timestamp_us started_at = 0;    ///< of the current attempt; 0 unless Running
  /// Running jobs whose asynchronous CA order is still pending: the order id; "" otherwise.
  std::string order_id;
  events::timestamp_us order_started_at = 0;  ///< when that order was placed
};

struct silent_agent {
  std::string id;
  events::timestamp_us last_heartbeat_at = 0;
};

}  // namespace certctl::domain
