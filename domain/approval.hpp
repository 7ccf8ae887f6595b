#pragma once
/// An issuance approval request (the reference's ApprovalRequest), one entity per blocked job
/// (stream "approval-<id>"): a certificate whose profile says `requires_approval` gets its
/// issuance or renewal job created AwaitingApproval, and this request waits for a second
/// person.
///
///   create --> pending --approve--> approved
///                      --reject---> rejected
///                      --expire---> expired        (all three terminal)
///
/// Two-person integrity: the principal who requested the issuance can neither approve nor
/// reject it (403; to withdraw, cancel the job). The job
/// follows through the approval workflow (actors/workflows/approval.hpp): job.approve or
/// job.reject.
///
/// Commands (body fields):
///   approval.create   certificate_id, job_id, requested_by; profile_id, metadata (object)
///   approval.approve  note (optional); the command's principal decides
///   approval.reject   note (optional)
///   approval.expire   {}; principal system:approvals

#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_approval(const std::string& id);

/// The approval id of a job: "ar-" + the job id without its "job-" prefix.
std::string approval_id_for_job(const std::string& job_id);

/// Folds one approval event into the API view; shared with the read model so both agree.
/// Returns false for event types it does not know.
bool fold_approval(events::json_object& view, const std::string& id,
                   const events::recorded_event& e);

}  // namespace certctl::domain
