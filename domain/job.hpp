#pragma once
/// A unit of work on a certificate (Issuance, Renewal; Deployment and Validation later).
///
///   Pending --start--> Running --complete--> Completed
///   AwaitingCSR --csr--> Running --fail--> Pending (retry, attempts < max) | Failed
///   Pending/AwaitingCSR/AwaitingApproval/Running --cancel|timeout--> Cancelled | Failed
///   AwaitingApproval --approve--> Pending (server keygen) | AwaitingCSR (agent keygen)
///   AwaitingApproval --reject--> Cancelled (last_error names who rejected it and why)
///   Pending/Running --time_out--> Failed (a Deployment/Validation job its agent did not report on
///           in time; job.timed_out names the agent)
///   Running --record_step--> Running (a deployment step the agent reports: job.step_recorded)
///   Running --await_order--> Running, order_state pending --poll_order--> (next poll later)
///           order pending --complete--> Completed | --fail--> Pending (retry) | Failed
///   Cancelled, order pending --record_order_cancel--> order_state cancelled | abandoned
///
/// While pending, order_ca_state says what the order waits for (pending_approval, processing,
/// rate_limited, unreachable) and order_message what the CA said.
///
/// An asynchronous CA (capabilities().async_orders) takes the request and answers later. The
/// order id, its state and the next poll time (scheduled_at) are the job's state, recorded as
/// events, so the order poller resumes it after a restart. The status stays Running (the API's
/// JobStatus enum has no word for it); the running-timeout loop skips jobs with a pending
/// order, whose deadline is the poller's.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_job(const std::string& id);

/// Bounds on the deployment steps a job records (job.record_step): how many per job, and how
/// much of each step's output.
inline constexpr std::int64_t max_job_steps = 64;
inline constexpr size_t max_step_output = 1024;

/// The one field of a job's folded state the API view hides: "agent" or "server", where the
/// CSR of a retried job comes from.
inline constexpr const char* job_hidden_field = "awaiting_csr_mode";

/// Folds one job event into the job's state (the API view plus job_hidden_field); `payload`
/// is e.payload, parsed once by the caller. The aggregate's apply() and the jobs read model
/// both fold with it. Returns false (state unchanged) for a type the state does not show
/// (job.csr_submitted).
bool fold_job(events::json_object& state, const std::string& id, const events::recorded_event& e,
              const events::json_object& payload);

/// The API view of a folded job state: the state without job_hidden_field.
events::json_object job_view(const events::json_object& state);

}  // namespace certctl::domain
