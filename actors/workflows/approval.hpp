#pragma once
/// Deciding an approval request (domain/approval.hpp) and releasing or closing its job:
///
///   approve: approval.approve -> job.approve (-> Pending | AwaitingCSR) -> hand-off
///   reject:  approval.reject  -> job.reject (-> Cancelled) -> certificate.record_failure
///   expire:  approval.expire  -> job.cancel (-> Cancelled) -> certificate.record_failure
///
/// The approval's decision comes first: it is the one that enforces two-person integrity and
/// refuses a second decision, so a job is never released or closed without a recorded
/// decision. Blocking (entity commands): call from request threads or scheduler loops.

#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/renewal.hpp"

namespace certctl::actors {

enum class approval_action { approve, reject, expire };

struct approval_context {
  std::string principal;
  std::string source_address;
  std::string correlation_id;
};

struct approval_outcome {
  command_result approval;            ///< the decision (its error is the caller's answer)
  std::optional<command_result> job;  ///< job.approve / job.reject / job.cancel
  bool handed_off = false;            ///< an approved server-keygen job went to issuance
};

/// Decides approval request `approval_id`; `note` goes on record with the decision.
approval_outcome decide_approval(entity_runtime& runtime, const issuance_handoff& handoff,
                                 const std::string& approval_id, approval_action action,
                                 const std::string& note, const approval_context& ctx);

}  // namespace certctl::actors
