#pragma once
/// Two followers of the event log, each resuming from its own checkpoint (kept beside the read
/// models, projections/subscriber_checkpoints.hpp) after downtime:
///
/// - webhook_subscriber: a webhook subscribed to event types (exact "certificate.revoked",
///   prefix "certificate.*", or "*") receives each matching event as its JSON envelope
///   (events::to_json), signed like every webhook POST, in log order. A failed POST stops the
///   batch; the next tick starts again at that event (at-least-once: de-duplicate by event_id).
///   notification.* events are never sent (they describe deliveries, including these).
/// - event_notifications: certificate events become notifications, routed by the certificate's
///   renewal policy (channel matrix by tier) and its owner (Email recipient):
///     certificate.issued with renewal=true   RenewalSuccess     informational
///     certificate.issuance_failed            RenewalFailure     critical
///     certificate.revoked                    Revocation         warning
///     job.completed of a Deployment job      DeploymentSuccess  informational
///     job.failed (final) of a Deployment job DeploymentFailure  critical
///     policy.violation_recorded              PolicyViolation    warning (Warning rules),
///                                                               critical (Error, Critical)
///     health_check.status_changed            HealthCheckAlert   critical (Down, CertMismatch),
///                                                               warning (Degraded),
///                                                               informational (back to Healthy)
///   notify_on_failure_only on the policy drops the successes. Each (event, channel) is
///   one notification id, so replaying after a crash queues nothing twice.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "connectors/notifiers/notifier.hpp"
#include "domain/expiry_alerts.hpp"
#include "events/result.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::schedulers {

/// Where a follower stands; the server keeps it in the read database. load answers -1 for a
/// follower that never ran: it starts at the log's head then (a new subscription does not
/// replay history, and a first start does not notify about old events).
struct position_store {
  std::function<result<std::int64_t, std::string>(const std::string& name)> load;
  std::function<result<done, std::string>(const std::string& name, std::int64_t position)> save;
};

struct webhook_subscription {
  std::string name;  ///< checkpoint key suffix, e.g. "env-webhook"
  std::vector<std::string> event_types;
  std::shared_ptr<connectors::notifier> webhook;
};

/// True when `type` is one `patterns` names ("*", "kind.*" or the exact type).
bool subscribed(const std::vector<std::string>& patterns, const std::string& type);

class webhook_subscriber {
 public:
  webhook_subscriber(store::event_store& store, position_store positions,
                     webhook_subscription subscription, size_t batch = 200);
  tick_report tick(events::timestamp_us now);

 private:
  store::event_store& store_;
  position_store positions_;
  webhook_subscription sub_;
  size_t batch_;
};

class event_notifications {
 public:
  event_notifications(store::event_store& store, actors::entity_runtime& runtime,
                      position_store positions, size_t batch = 500);
  tick_report tick(events::timestamp_us now);

  /// How an event is notified.
  struct routed {
    const char* type = nullptr;  ///< NotificationType; nullptr: not notified
    const char* tier = "informational";
    bool success = false;
    std::string subject;
  };

 private:
  void route(const events::recorded_event& e, tick_report& report);
  void route_health(const events::recorded_event& e, const events::json_object& p,
                    tick_report& report);
  void queue_notifications(const events::recorded_event& e, const routed& r,
                           const std::string& cert_id, const domain::alert_policy& policy,
                           const std::string& owner_email, const std::string& subject,
                           const std::string& message, tick_report& report);

  store::event_store& store_;
  actors::entity_runtime& runtime_;
  position_store positions_;
  size_t batch_;
};

}  // namespace certctl::schedulers
