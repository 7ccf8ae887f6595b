#pragma once
/// Loop 3, job retry: when issuance fails retryably, the job goes back to Pending (or
/// AwaitingCSR) with scheduled_at = now + the certificate's renewal policy
/// retry_interval_seconds; the job processor picks it up when that time comes. This builds
/// the function the issuance service asks for that time (issuance_service::set_retry_schedule).

#include <chrono>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "infra/clock.hpp"

namespace certctl::schedulers {

/// now (from `clock`) + the retry interval of the policy named by the task's certificate
/// view (renewal_policy_id); `fallback` when the certificate has no policy or it cannot be
/// read. `source` and `clock` must outlive the function.
actors::retry_schedule make_retry_schedule(due_work_source& source, const infra::clock& clock,
                                           std::chrono::seconds fallback = std::chrono::hours(1));

}  // namespace certctl::schedulers
