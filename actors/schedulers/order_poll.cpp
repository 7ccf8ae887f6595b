#include "actors/schedulers/order_poll.hpp"

namespace certctl::schedulers {

order_poll::order_poll(due_work_source& source, order_poll_options options)
    : source_(source), options_(std::move(options)) {}

tick_report order_poll::tick(events::timestamp_us now) {
  auto report = start_report("orders", now);
  if (!options_.poll) return report;
  auto jobs = source_.jobs_awaiting_order_due(now, options_.batch);
  if (!jobs) {
    report.errors.push_back("orders: " + jobs.error().message);
    return report;
  }
  const events::timestamp_us rehand =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.rehand_after).count();
  std::map<std::string, hand_off> still_due;
  for (const auto& job : *jobs) {
    auto seen = handed_off_.find(job.id);
    // Handed off for this scheduled_at already: the poll is queued or running. A worker that
    // finishes moves scheduled_at (or ends the order), so an unchanged one long after means the
    // hand-off was lost.
    if (seen != handed_off_.end() && seen->second.scheduled_at == job.scheduled_at &&
        now - seen->second.at < rehand) {
      still_due[job.id] = seen->second;
      continue;
    }
    options_.poll(job, report.correlation_id);
    still_due[job.id] = hand_off{job.scheduled_at, now};
    loop_action a;
    a.command = "order.poll";
    a.entity_id = job.id;
    a.detail = job.order_id;
    a.ok = true;
    report.actions.push_back(std::move(a));
  }
  handed_off_ = std::move(still_due);
  return report;
}

}  // namespace certctl::schedulers
