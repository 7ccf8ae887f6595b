#pragma once
/// The command sequence that starts (re)issuance of a certificate, shared by the REST routes
/// and the renewal scheduler so both leave the same events behind:
///
///   renewal:  certificate.renew {job_id} -> job.create {type: Renewal} -> hand-off
///   issuance:                               job.create {type: Issuance} -> hand-off
///   profile requires_approval:              job.create {AwaitingApproval} -> approval.create
///                                           (the hand-off waits for approval.hpp)
///
/// The hand-off gives a server-keygen job to the issuance service; in agent mode (no
/// hand-off) the job stays AwaitingCSR until an agent posts its CSR.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"

namespace certctl::actors {

/// Hands a server-keygen task to the issuance service (normally issuance_service::enqueue).
/// Empty: agent keygen, jobs are created AwaitingCSR.
using issuance_handoff = std::function<void(issuance_task)>;

struct issuance_start {
  std::string certificate_id;
  std::string job_id;  ///< chosen by the caller: random for REST, deterministic for schedulers
  std::int64_t max_attempts = 0;  ///< 0: the job's default
  std::string principal;
  std::string source_address;
  std::string correlation_id;
  /// Idempotency keys (empty: none). With keys, repeating the call writes nothing new and
  /// hands nothing off a second time.
  std::string renew_command_id;
  std::string job_command_id;
  /// Agent keygen with the CSR in hand (ACME finalize): it goes with job.create, so the job
  /// is born Running with it (job.created, csr_submitted, started in one append) instead of
  /// waiting for a job.submit_csr. Ignored when the job awaits an approval first.
  std::string csr_pem;
};

struct issuance_started {
  /// certificate.renew (renewals only).
  std::optional<command_result> certificate;
  /// job.create; unset when the renewal was refused.
  std::optional<command_result> job;
  bool handed_off = false;  ///< a task went to the issuance service
  /// The profile requires approval: the job waits AwaitingApproval with an approval request
  /// (nothing was handed off).
  bool awaiting_approval = false;
  /// approval.create, when awaiting_approval.
  std::optional<command_result> approval;
  /// The last position the sequence committed (what a client waits for to read it all).
  std::int64_t last_position() const;
  /// True when the sequence succeeded (including as a repeat of an earlier call).
  bool ok() const { return job && job->ok() && (!certificate || certificate->ok()); }
};

/// job.create for `certificate` (its current view) then the hand-off.
issuance_started start_issuance(entity_runtime& runtime, const issuance_handoff& handoff,
                                const events::json_object& certificate, const std::string& type,
                                const issuance_start& start);

/// certificate.renew then start_issuance(type Renewal) with the renewed view.
issuance_started start_renewal(entity_runtime& runtime, const issuance_handoff& handoff,
                               const issuance_start& start);

}  // namespace certctl::actors
