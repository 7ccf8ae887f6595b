#include "actors/schedulers/job_timeout.hpp"

namespace certctl::schedulers {
namespace {

std::int64_t micros(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::microseconds>(s).count();
}

void record_certificate_failure(actors::entity_runtime& runtime, tick_report& report,
                                const due_job& job, const std::string& error,
                                const std::string& command_id) {
  if (job.certificate_id.empty()) return;
  events::json_object body;
  body.set("job_id", job.id).set("error", error);
  send_system_command(runtime, report, "certificate", "certificate.record_failure",
                      job.certificate_id, std::move(body), command_id);
}

}  // namespace

job_timeout::job_timeout(actors::entity_runtime& runtime, due_work_source& source,
                         job_timeout_options options)
    : runtime_(runtime), source_(source), options_(options) {}

tick_report job_timeout::tick(events::timestamp_us now) {
  auto report = start_report("timeouts", now);
  time_out_csr_waits(now, report);
  fail_stuck_jobs(now, report);
  return report;
}

void job_timeout::time_out_csr_waits(events::timestamp_us now, tick_report& report) {
  auto jobs = source_.jobs_awaiting_csr_since(now - micros(options_.csr_timeout), options_.batch);
  if (!jobs) {
    report.errors.push_back("jobs awaiting CSR: " + jobs.error().message);
    return;
  }
  const std::string reason = "timed out waiting for CSR";
  for (const auto& job : *jobs) {
    events::json_object body;
    body.set("reason", reason);
    auto cancelled = send_system_command(runtime_, report, "job", "job.cancel", job.id,
                                         std::move(body), "csr-timeout:" + job.id, reason);
    // A conflict means the job moved on (an agent answered in the meantime): leave it be.
    if (!cancelled) continue;
    record_certificate_failure(runtime_, report, job, reason, "csr-timeout-cert:" + job.id);
  }
}

void job_timeout::fail_stuck_jobs(events::timestamp_us now, tick_report& report) {
  auto jobs = source_.jobs_running_since(now - micros(options_.running_timeout), options_.batch);
  if (!jobs) {
    report.errors.push_back("running jobs: " + jobs.error().message);
    return;
  }
  const std::string error = "no outcome " + std::to_string(options_.running_timeout.count()) +
                            " s after the attempt started (worker lost)";
  for (const auto& job : *jobs) {
    // One id per attempt: a later attempt of the same job that also hangs gets its own.
    const std::string id = job.id + ":" + std::to_string(job.started_at);
    events::json_object body;
    body.set("error", error).set("retryable", true);
    auto failed = send_system_command(runtime_, report, "job", "job.fail", job.id, std::move(body),
                                      "stuck:" + id, error);
    if (failed && failed->view.str("status") == "Failed")
      record_certificate_failure(runtime_, report, job, error, "stuck-cert:" + id);
  }
}

}  // namespace certctl::schedulers
