#include "actors/schedulers/event_followers.hpp"

#include "domain/expiry_alerts.hpp"
#include "events/event_codec.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::schedulers {

namespace {

using routed = event_notifications::routed;

std::string certificate_of(const events::recorded_event& e, const events::json_object& p) {
  if (e.stream_id.rfind("certificate-", 0) == 0) return e.stream_id.substr(12);
  return p.str("certificate_id");
}

routed classify(const events::recorded_event& e, const events::json_object& p) {
  routed r;
  if (e.type == "certificate.issued" && p.boolean("renewal")) {
    r = {"RenewalSuccess", "informational", true, "renewed"};
  } else if (e.type == "certificate.issuance_failed") {
    r = {"RenewalFailure", "critical", false, "could not be issued or renewed"};
  } else if (e.type == "certificate.revoked") {
    r = {"Revocation", "warning", false, "was revoked"};
  } else if (e.type == "policy.violation_recorded") {
    // Error and Critical rules blocked something; a Warning only reports.
    r = {"PolicyViolation", p.str("severity") == "Warning" ? "warning" : "critical", false,
         "breaks a policy rule"};
  }
  return r;
}

/// A deployment is a job of type Deployment (actors/workflows/deployment.hpp): its end,
/// job.completed or a final job.failed, is a deployment outcome. Set on `r` and `cert_id`.
void classify_deployment(actors::entity_runtime& runtime, const events::recorded_event& e,
                         const events::json_object& p, routed& r, std::string& cert_id) {
  const bool completed = e.type == "job.completed";
  if (!completed && !(e.type == "job.failed" && !p.boolean("retry"))) return;
  if (e.stream_id.rfind("job-", 0) != 0) return;
  auto job = runtime.read("job", e.stream_id.substr(4));
  if (!job || job->view.str("type") != "Deployment") return;
  r = completed ? routed{"DeploymentSuccess", "informational", true, "was deployed"}
                : routed{"DeploymentFailure", "critical", false, "could not be deployed"};
  cert_id = job->view.str("certificate_id");
}

/// The follower's position; on its first run the log's head, recorded.
result<std::int64_t, std::string> start_position(store::event_store& store,
                                                 const position_store& positions,
                                                 const std::string& key) {
  auto from = positions.load(key);
  if (!from) return from.error();
  if (*from >= 0) return *from;
  auto head = store.head_position();
  if (!head) return "event log: " + head.error().message;
  if (auto s = positions.save(key, *head); !s) return s.error();
  return *head;
}

}  // namespace

bool subscribed(const std::vector<std::string>& patterns, const std::string& type) {
  for (const auto& p : patterns) {
    if (p == "*" || p == type) return true;
    if (p.size() > 2 && p.compare(p.size() - 2, 2, ".*") == 0 &&
        type.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0)
      return true;
  }
  return false;
}

webhook_subscriber::webhook_subscriber(store::event_store& store, position_store positions,
                                       webhook_subscription subscription, size_t batch)
    : store_(store),
      positions_(std::move(positions)),
      sub_(std::move(subscription)),
      batch_(batch) {}

tick_report webhook_subscriber::tick(events::timestamp_us now) {
  auto report = start_report("webhook:" + sub_.name, now);
  const std::string key = "webhook:" + sub_.name;
  auto from = start_position(store_, positions_, key);
  if (!from) {
    report.errors.push_back("checkpoint: " + from.error());
    return report;
  }
  auto evs = store_.read_all(*from + 1, batch_);
  if (!evs) {
    report.errors.push_back("event log: " + evs.error().message);
    return report;
  }
  std::int64_t done_up_to = *from;
  for (const auto& e : *evs) {
    if (e.type.rfind("notification.", 0) != 0 && subscribed(sub_.event_types, e.type)) {
      connectors::notification n;
      n.channel = "Webhook";
      n.event_type = e.type;
      n.json_body = events::to_json(e);
      auto sent = sub_.webhook->send(n);
      loop_action a;
      a.command = "webhook.deliver";
      a.entity_id = e.event_id;
      a.ok = sent.ok();
      a.detail = sent ? e.type : sent.error().message;
      report.actions.push_back(std::move(a));
      if (!sent) break;  // in order: this event first, on the next tick
    }
    done_up_to = e.position;
  }
  if (done_up_to != *from)
    if (auto s = positions_.save(key, done_up_to); !s)
      report.errors.push_back("checkpoint: " + s.error());
  return report;
}

event_notifications::event_notifications(store::event_store& store, actors::entity_runtime& runtime,
                                         position_store positions, size_t batch)
    : store_(store), runtime_(runtime), positions_(std::move(positions)), batch_(batch) {}

tick_report event_notifications::tick(events::timestamp_us now) {
  auto report = start_report("event-notifications", now);
  const std::string key = "event-notifications";
  auto from = start_position(store_, positions_, key);
  if (!from) {
    report.errors.push_back("checkpoint: " + from.error());
    return report;
  }
  auto evs = store_.read_all(*from + 1, batch_);
  if (!evs) {
    report.errors.push_back("event log: " + evs.error().message);
    return report;
  }
  for (const auto& e : *evs) route(e, report);
  if (!evs->empty())
    if (auto s = positions_.save(key, evs->back().position); !s)
      report.errors.push_back("checkpoint: " + s.error());
  return report;
}

void event_notifications::route(const events::recorded_event& e, tick_report& report) {
  auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
  if (e.type == "health_check.status_changed") return route_health(e, p, report);
  routed r = classify(e, p);
  std::string cert_id = certificate_of(e, p);
  if (r.type == nullptr) classify_deployment(runtime_, e, p, r, cert_id);
  if (r.type == nullptr || cert_id.empty()) return;
  // Entity reads, not the read models: they may not have caught up with this event yet.
  auto cert = runtime_.read("certificate", cert_id);
  if (!cert || !cert->view.has("id")) return;
  const auto& c = cert->view;
  domain::alert_policy policy;
  if (auto rp = runtime_.read("renewal_policy", c.str("renewal_policy_id")); rp)
    policy = domain::alert_policy_of(rp->view);
  if (r.success && policy.failure_only) return;
  std::string owner_email;
  if (!c.str("owner_id").empty())
    if (auto o = runtime_.read("owner", c.str("owner_id")); o) owner_email = o->view.str("email");
  const std::string name = c.str("common_name").empty() ? cert_id : c.str("common_name");
  const std::string subject = "Certificate " + name + " " + r.subject;
  std::string message = subject + " (certificate " + cert_id + ", event " + e.type + " at " +
                        std::to_string(e.position) + ")";
  if (p.has("error")) message += ": " + p.str("error");
  if (p.has("reason")) message += ": " + p.str("reason");
  if (e.type == "policy.violation_recorded") message += ": " + p.str("message");
  queue_notifications(e, r, cert_id, policy, owner_email, subject, message, report);
}

/// An endpoint's status moved (domain/health_check): Down and CertMismatch are critical,
/// Degraded a warning, a return to Healthy an informational success (dropped under
/// notify_on_failure_only). A new check's first Healthy is not an alert. A check linked
/// to a managed certificate is routed by that certificate's policy and owner; one without is
/// routed by the default matrix (Email for every tier unless configured).
void event_notifications::route_health(const events::recorded_event& e,
                                       const events::json_object& p, tick_report& report) {
  const std::string to = p.str("to"), from = p.str("from");
  routed r;
  if (to == "Down") {
    r = {"HealthCheckAlert", "critical", false, "is down"};
  } else if (to == "CertMismatch") {
    r = {"HealthCheckAlert", "critical", false, "serves an unexpected certificate"};
  } else if (to == "Degraded") {
    r = {"HealthCheckAlert", "warning", false, "is degraded"};
  } else if (to == "Healthy" && !from.empty()) {
    r = {"HealthCheckAlert", "informational", true, "is healthy again"};
  } else {
    return;
  }
  const std::string prefix = "health_check-";
  if (e.stream_id.rfind(prefix, 0) != 0) return;
  const std::string check_id = e.stream_id.substr(prefix.size());
  auto check = runtime_.read("health_check", check_id);
  if (!check || !check->view.has("id")) return;
  const std::string endpoint = check->view.str("endpoint");
  const std::string cert_id = check->view.str("certificate_id");
  domain::alert_policy policy;
  std::string owner_email;
  if (!cert_id.empty())
    if (auto cert = runtime_.read("certificate", cert_id); cert && cert->view.has("id")) {
      const auto& c = cert->view;
      if (auto rp = runtime_.read("renewal_policy", c.str("renewal_policy_id")); rp)
        policy = domain::alert_policy_of(rp->view);
      if (!c.str("owner_id").empty())
        if (auto o = runtime_.read("owner", c.str("owner_id")); o)
          owner_email = o->view.str("email");
    }
  if (r.success && policy.failure_only) return;
  const std::string subject = "Endpoint " + endpoint + " " + r.subject;
  std::string message = subject + " (health check " + check_id + ": " +
                        (from.empty() ? std::string("new") : from) + " -> " + to + ", event " +
                        std::to_string(e.position) + ")";
  if (!p.str("failure_reason").empty()) message += ": " + p.str("failure_reason");
  if (to == "CertMismatch")
    message += "; served " + p.str("observed_fingerprint") + ", expected " +
               check->view.str("expected_fingerprint");
  queue_notifications(e, r, cert_id, policy, owner_email, subject, message, report);
}

/// One notification per channel of the tier. Each (event, channel) is one notification id,
/// so replaying after a crash queues nothing twice.
void event_notifications::queue_notifications(const events::recorded_event& e, const routed& r,
                                              const std::string& cert_id,
                                              const domain::alert_policy& policy,
                                              const std::string& owner_email,
                                              const std::string& subject,
                                              const std::string& message, tick_report& report) {
  for (const auto& channel : domain::alert_channels(policy, r.tier)) {
    const std::string id =
        "evt-" + crypto::to_hex(crypto::sha256_of(e.event_id + "\n" + channel)).substr(0, 32);
    events::json_object details;
    details.set("event_id", e.event_id)
        .set("event_type", e.type)
        .set("position", std::to_string(e.position))
        .set("severity_tier", r.tier);
    events::json_object body;
    body.set("type", r.type)
        .set("channel", channel)
        .set("severity", domain::notification_severity(r.tier))
        .set("event_type", e.type)
        .set("subject", subject)
        .set("message", message)
        .set_raw("details", details.dump());
    if (!cert_id.empty()) body.set("certificate_id", cert_id);
    if (channel == "Email" && !owner_email.empty()) body.set("recipient", owner_email);
    auto res = send_system_command(runtime_, report, "notification", "notification.create", id,
                                   body, "event:" + id, std::string(r.type) + " " + channel);
    if (!res && res.error().code == domain::domain_errc::conflict) {
      report.actions.back().ok = true;
      report.actions.back().duplicate = true;
    }
  }
}

}  // namespace certctl::schedulers
