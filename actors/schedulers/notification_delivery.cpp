#include "actors/schedulers/notification_delivery.hpp"

#include "events/time.hpp"

namespace certctl::schedulers {

connectors::notification to_message(const events::json_object& view) {
  connectors::notification n;
  n.channel = view.str("channel");
  const std::string sev = view.str("severity");
  n.level = sev == "critical"  ? connectors::severity::critical
            : sev == "warning" ? connectors::severity::warning
                               : connectors::severity::info;
  n.recipient = view.str("recipient");
  n.subject = view.str("subject");
  if (n.subject.empty()) n.subject = view.str("type");
  n.body = view.str("message");
  n.html_body = view.str("html_message");
  n.event_type = view.str("event_type");
  n.certificate_id = view.str("certificate_id");
  if (view.is_object("details")) n.details = view.str_map("details");
  return n;
}

notification_delivery::notification_delivery(actors::entity_runtime& runtime,
                                             notification_source& source,
                                             const connectors::channel_set& channels,
                                             notification_delivery_options options)
    : runtime_(runtime), source_(source), channels_(channels), options_(std::move(options)) {}

tick_report notification_delivery::tick(events::timestamp_us now) {
  auto report = start_report("notifications", now);
  auto due = source_.due_notifications(now, options_.batch);
  if (!due) {
    report.errors.push_back("notifications: " + due.error().message);
    return report;
  }
  for (const auto& id : *due) {
    auto current = runtime_.read("notification", id);
    if (!current) {
      record_action(report, "notification.record_delivery", id, current);
      continue;
    }
    const auto& view = current->view;
    const std::string status = view.str("status");
    const auto next = events::parse_rfc3339(view.str("next_retry_at"));
    // The read model lagged: already sent, dead, or rescheduled since.
    if ((status != "pending" && status != "failed") || !next || *next > now) continue;

    delivery_attempt attempt;
    attempt.notification = view;
    events::json_object outcome;
    auto notifier = channels_.find(view.str("channel"));
    if (!notifier) {
      attempt.error = "no " + view.str("channel") + " channel is configured on this server";
      outcome.set("delivered", false).set("retryable", false).set("error", attempt.error);
    } else {
      auto sent = notifier->send(to_message(view));
      if (sent) {
        attempt.delivered = true;
        outcome.set("delivered", true);
        if (!sent->message_id.empty()) outcome.set("message_id", sent->message_id);
      } else {
        attempt.error = sent.error().message;
        outcome.set("delivered", false)
            .set("retryable", sent.error().code == connectors::connector_errc::unavailable)
            .set("error", attempt.error);
      }
    }
    // One id per attempt: a retried command (timeout, redelivery) records it once.
    auto r = send_system_command(runtime_, report, "notification", "notification.record_delivery",
                                 id, outcome,
                                 "deliver:" + id + ":" + std::to_string(view.int64("retry_count")) +
                                     ":" + view.str("next_retry_at"),
                                 attempt.delivered ? "sent" : attempt.error);
    if (r) attempt.dead = r->view.str("status") == "dead";
    if (options_.on_attempt) options_.on_attempt(attempt);
  }
  return report;
}

}  // namespace certctl::schedulers
