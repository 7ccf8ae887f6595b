#include "actors/schedulers/short_lived_expiry.hpp"

#include "actors/schedulers/renewal_check.hpp"

namespace certctl::schedulers {

short_lived_expiry::short_lived_expiry(actors::entity_runtime& runtime, due_work_source& source,
                                       size_t batch)
    : runtime_(runtime), source_(source), batch_(batch) {}

tick_report short_lived_expiry::tick(events::timestamp_us now) {
  auto report = start_report("short-lived", now);
  auto certs = source_.short_lived_expired_by(now, batch_);
  if (!certs) {
    report.errors.push_back("certificates: " + certs.error().message);
    return report;
  }
  for (const auto& cert : *certs)
    if (cert.expires_at <= now) mark_certificate_status(runtime_, report, cert, "Expired");
  return report;
}

}  // namespace certctl::schedulers
