#pragma once
/// Loop 1, the renewal check: walks Active and Expiring certificates near or past expiry.
///
///   expires_at <= now                          -> certificate.mark_status {Expired}
///   Active, expires_at <= now + alert window   -> certificate.mark_status {Expiring}
///   policy auto_renew, expires_at <= now + renewal_window_days
///                                              -> certificate.renew + job.create {Renewal}
///                                                 + hand-off (server keygen) or AwaitingCSR
///
/// The alert window is the policy's largest alert threshold. An expired certificate whose
/// policy auto-renews is marked Expired and renewed in the same tick: renewing it late is
/// still better than leaving it dead. Certificates whose policy is unknown are only marked,
/// never renewed (no policy said so).
///
/// Command ids are derived from the certificate id and its expires_at, so a second tick on a
/// stale read model (or a second node) repeats nothing, while the next issued version (new
/// expires_at) gets fresh ids.

#include <cstdint>
#include <string>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "actors/workflows/renewal.hpp"

namespace certctl::schedulers {

struct renewal_check_options {
  std::int64_t default_alert_window_days = 30;  ///< for certificates without a known policy
  size_t batch = 500;                           ///< certificates per tick
};

class renewal_check {
 public:
  renewal_check(actors::entity_runtime& runtime, due_work_source& source,
                actors::issuance_handoff handoff, renewal_check_options options = {});

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  due_work_source& source_;
  actors::issuance_handoff handoff_;
  renewal_check_options options_;
};

/// certificate.mark_status {status} with command id "<status lowercased>:<id>:<expires_at>"
/// (shared with the short-lived expiry loop, so the two never both write it).
actors::command_result mark_certificate_status(actors::entity_runtime& runtime, tick_report& report,
                                               const due_certificate& cert,
                                               const std::string& status);

/// The deterministic id of the job that renews `cert` at its current expiry.
std::string renewal_job_id(const due_certificate& cert);

}  // namespace certctl::schedulers
