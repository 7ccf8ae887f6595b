#include "domain/notification.hpp"

#include <algorithm>

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {

namespace {

bool one_of(const std::string& s, std::initializer_list<const char*> set) {
  for (const char* x : set)
    if (s == x) return true;
  return false;
}

class notification final : public view_aggregate {
 public:
  using view_aggregate::view_aggregate;

  std::string kind() const override { return "notification"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    fold_notification(view_, id_, e, p);
  }

  result<decision, domain_error> decide(const command& c) const override {
    const std::string status = view_.str("status");
    if (c.name == "notification.create") {
      if (exists()) return conflict("notification " + id_ + " already exists");
      if (auto err = check_fields(c.body, {{"type", 's'},
                                           {"channel", 's'},
                                           {"recipient", 's'},
                                           {"subject", 's'},
                                           {"message", 's'},
                                           {"html_message", 's'},
                                           {"certificate_id", 's'},
                                           {"severity", 's'},
                                           {"event_type", 's'},
                                           {"details", 'o'}}))
        return *err;
      if (auto err = require_strings(c.body, {"type", "channel", "message"})) return *err;
      if (!is_notification_type(c.body.str("type")))
        return invalid("unknown notification type '" + c.body.str("type") + "'");
      if (!is_notification_channel(c.body.str("channel")))
        return invalid("unknown channel '" + c.body.str("channel") + "'");
      const std::string sev = c.body.str("severity", "info");
      if (!one_of(sev, {"info", "warning", "critical"}))
        return invalid("severity must be info, warning or critical");
      events::json_object p;
      for (const char* f : {"type", "channel", "recipient", "subject", "message", "html_message",
                            "certificate_id", "event_type"})
        if (c.body.is_string(f)) p.set(f, c.body.str(f));
      if (c.body.is_object("details")) p.set_raw("details", c.body.raw("details"));
      p.set("severity", sev).set("next_retry_at", events::format_rfc3339(c.now));
      return decision{{"notification.created", p}};
    }
    if (!exists()) return not_found("notification " + id_ + " not found");
    if (c.name == "notification.record_delivery") {
      if (!one_of(status, {"pending", "failed"}))
        return conflict("notification " + id_ + " is " + status + ", not due");
      if (c.body.boolean("delivered")) {
        events::json_object p;
        if (c.body.is_string("message_id")) p.set("message_id", c.body.str("message_id"));
        return decision{{"notification.sent", p}};
      }
      const std::int64_t attempts = view_.int64("retry_count") + 1;
      events::json_object p;
      p.set("error", c.body.str("error", "delivery failed")).set("retry_count", attempts);
      if (!c.body.boolean("retryable", true) || attempts >= notification_max_attempts)
        return decision{{"notification.dead", p}};
      p.set("next_retry_at", events::format_rfc3339(c.now + notification_backoff_us(attempts)));
      return decision{{"notification.failed", p}};
    }
    if (c.name == "notification.mark_read") {
      if (status == "read") return decision{};
      return decision{{"notification.read", events::json_object{}}};
    }
    if (c.name == "notification.requeue") {
      // invalid (400), not conflict: the API answers 400 for a notification that is not dead.
      if (status != "dead")
        return invalid("notification " + id_ + " is " + status +
                       "; only dead notifications can be requeued");
      events::json_object p;
      p.set("next_retry_at", events::format_rfc3339(c.now));
      return decision{{"notification.requeued", p}};
    }
    return invalid("unknown command " + c.name);
  }
};

}  // namespace

std::int64_t notification_backoff_us(std::int64_t retry_count) {
  constexpr std::int64_t minute = 60LL * 1000000;
  constexpr std::int64_t cap = 60 * minute;
  if (retry_count >= 6) return cap;  // 2^6 min > 1 h; also keeps the shift in range
  return std::min(cap, (std::int64_t{1} << std::max<std::int64_t>(retry_count, 0)) * minute);
}

bool is_notification_channel(const std::string& channel) {
  return one_of(channel, {"Email", "Webhook", "Slack", "Teams", "PagerDuty", "OpsGenie"});
}

bool is_notification_type(const std::string& type) {
  return one_of(type, {"ExpirationWarning", "RenewalSuccess", "RenewalFailure", "DeploymentSuccess",
                       "DeploymentFailure", "PolicyViolation", "Revocation",
                       // Not in the v2.0.0 enum: endpoint health alerts (docs/health-checks.md).
                       "HealthCheckAlert"});
}

bool fold_notification(events::json_object& view, const std::string& id,
                       const events::recorded_event& e, const events::json_object& payload) {
  const auto& p = payload;
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "notification.created") {
    view = p;
    view.set("id", id)
        .set("status", "pending")
        .set("retry_count", std::int64_t{0})
        .set("created_at", at);
  } else if (e.type == "notification.sent") {
    view.set("status", "sent").set("sent_at", at).remove("next_retry_at").remove("error");
    if (p.has("message_id")) view.set("message_id", p.str("message_id"));
  } else if (e.type == "notification.failed") {
    view.set("status", "failed")
        .set("retry_count", p.int64("retry_count"))
        .set("last_error", p.str("error"))
        .set("error", p.str("error"))
        .set("next_retry_at", p.str("next_retry_at"));
  } else if (e.type == "notification.dead") {
    view.set("status", "dead")
        .set("retry_count", p.int64("retry_count"))
        .set("last_error", p.str("error"))
        .set("error", p.str("error"))
        .remove("next_retry_at");
  } else if (e.type == "notification.read") {
    view.set("status", "read").set("read_at", at).remove("next_retry_at");
  } else if (e.type == "notification.requeued") {
    // last_error stays for the audit trail; the retry budget starts again.
    view.set("status", "pending")
        .set("retry_count", std::int64_t{0})
        .set("next_retry_at", p.str("next_retry_at"))
        .remove("error");
  } else {
    return false;
  }
  view.set("updated_at", at);
  return true;
}

std::unique_ptr<aggregate> make_notification(const std::string& id) {
  return std::make_unique<notification>(id);
}

}  // namespace certctl::domain
