#include "actors/schedulers/job_processor.hpp"

namespace certctl::schedulers {

job_processor::job_processor(actors::entity_runtime& runtime, due_work_source& source,
                             actors::issuance_handoff handoff, job_processor_options options)
    : runtime_(runtime), source_(source), handoff_(std::move(handoff)), options_(options) {}

tick_report job_processor::tick(events::timestamp_us now) {
  auto report = start_report("jobs", now);
  if (!handoff_) return report;
  auto jobs = source_.pending_jobs_due(now, options_.batch);
  if (!jobs) {
    report.errors.push_back("jobs: " + jobs.error().message);
    return report;
  }
  const events::timestamp_us grace =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.fresh_job_grace).count();
  std::map<std::string, events::timestamp_us> still_due;
  for (const auto& job : *jobs) {
    if (job.type != "Issuance" && job.type != "Renewal") continue;
    if (job.attempts == 0 && job.created_at > now - grace) continue;
    still_due[job.id] = job.scheduled_at;
    // Handed off for this scheduled_at moments ago: the task is probably queued or running.
    // Older than the grace and still Pending, the hand-off was lost (its job.start failed).
    auto seen = handed_off_.find(job.id);
    if (seen != handed_off_.end() && seen->second.scheduled_at == job.scheduled_at &&
        now - seen->second.at < grace)
      continue;
    // The certificate's current names come from its entity, not the read model.
    auto cert = runtime_.read("certificate", job.certificate_id);
    if (!cert) {
      record_action(report, "issuance.enqueue", job.id, cert);
      continue;
    }
    handoff_({job.certificate_id, job.id, cert->view, "", report.correlation_id,
              "system:" + report.loop});
    handed_off_[job.id] = hand_off{job.scheduled_at, now};
    loop_action a;
    a.command = "issuance.enqueue";
    a.entity_id = job.id;
    a.detail = "attempt " + std::to_string(job.attempts + 1);
    a.ok = true;
    report.actions.push_back(std::move(a));
  }
  // Forget jobs that are no longer due (started, done or cancelled), so the map stays small.
  for (auto it = handed_off_.begin(); it != handed_off_.end();)
    it = still_due.count(it->first) ? std::next(it) : handed_off_.erase(it);
  return report;
}

}  // namespace certctl::schedulers
