#include "actors/schedulers/deployment_timeout.hpp"

namespace certctl::schedulers {
namespace {

bool agent_job(const due_job& job) {
  return job.type == "Deployment" || job.type == "Validation";
}

}  // namespace

deployment_timeout::deployment_timeout(actors::entity_runtime& runtime, due_work_source& source,
                                       std::chrono::seconds timeout, size_t batch)
    : runtime_(runtime), source_(source), timeout_(timeout), batch_(batch) {}

tick_report deployment_timeout::tick(events::timestamp_us now) {
  auto report = start_report("deployments", now);
  const events::timestamp_us before =
      now - std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
  // Pending: a deployment's scheduled_at is its creation time, so "due before `before`" means
  // "waiting longer than the timeout". Other job types in the answer are the processor's.
  auto pending = source_.pending_jobs_due(before, batch_);
  if (!pending)
    report.errors.push_back("pending jobs: " + pending.error().message);
  else
    for (const auto& job : *pending)
      if (agent_job(job)) time_out(job, report);
  auto running = source_.jobs_running_since(before, batch_);
  if (!running)
    report.errors.push_back("running jobs: " + running.error().message);
  else
    for (const auto& job : *running)
      if (agent_job(job)) time_out(job, report);
  return report;
}

void deployment_timeout::time_out(const due_job& job, tick_report& report) {
  // The entity, not the read model: the agent may have reported a moment ago.
  auto current = runtime_.read("job", job.id);
  if (!current) return;
  const std::string status = current->view.str("status");
  if (status != "Pending" && status != "Running") return;
  const std::string agent = current->view.str("agent_id");
  const std::string error =
      "agent " + (agent.empty() ? std::string("(none)") : agent) + " did not report within " +
      std::to_string(timeout_.count()) + " s (" +
      (status == "Pending" ? "the job was never picked up" : "no report since it started") +
      "; CERTCTL_DEPLOYMENT_TIMEOUT)";
  events::json_object body;
  body.set("error", error).set("timeout_seconds", static_cast<std::int64_t>(timeout_.count()));
  send_system_command(runtime_, report, "job", "job.time_out", job.id, std::move(body),
                      "deployment-timeout:" + job.id, error);
}

}  // namespace certctl::schedulers
