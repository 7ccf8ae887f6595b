#include "tools/server/notification_wiring.hpp"

#include <iostream>

#include "actors/schedulers/event_followers.hpp"
#include "actors/schedulers/expiry_alerts.hpp"
#include "actors/schedulers/notification_delivery.hpp"
#include "projections/digest.hpp"
#include "projections/subscriber_checkpoints.hpp"
#include "tools/server/notification_source_adapter.hpp"

namespace certctl::server {

struct notification_services::impl {
  connectors::channel_set channels;
  notification_source_adapter source;
  schedulers::expiry_alerts alerts;
  schedulers::notification_delivery delivery;
  std::unique_ptr<schedulers::digest_sender> digest;
  std::unique_ptr<schedulers::event_notifications> events;
  std::vector<std::unique_ptr<schedulers::webhook_subscriber>> subscribers;
  std::unique_ptr<schedulers::notification_scheduler> runner;

  impl(connectors::channel_set c, actors::entity_runtime& runtime,
       std::shared_ptr<sql::database> db, infra::metrics& metrics)
      : channels(std::move(c)),
        source(db),
        alerts(runtime, source),
        delivery(runtime, source, channels,
                 {200, [&metrics](const schedulers::delivery_attempt& a) {
                    const auto& n = a.notification;
                    if (n.str("type") == "ExpirationWarning")
                      metrics.observe_expiry_alert(
                          n.str("channel"), n.str_map("details")["threshold_days"], a.delivered);
                    if (!a.delivered)
                      // The notifier's message names host and status, never a credential.
                      std::cout << "notification " << n.str("id") << " (" << n.str("channel")
                                << "): " << (a.dead ? "dead: " : "failed: ") << a.error
                                << std::endl;
                  }}) {}
};

notification_services::notification_services(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
notification_services::~notification_services() {
  stop();
}

result<std::unique_ptr<notification_services>, std::string> notification_services::make(
    const infra::server_config& cfg, const connectors::connector_registry& registry,
    actors::entity_runtime& runtime, store::event_store& store, std::shared_ptr<sql::database> db,
    const infra::clock& clock, infra::metrics& metrics) {
  auto channels =
      connectors::make_channels(registry, connectors::env_channel_configs(cfg.notifications));
  if (!channels) return "notifications: " + channels.error();
  auto p = std::make_unique<impl>(std::move(*channels), runtime, db, metrics);
  // Delivery always runs (requeued or API-made notifications); alerts and event notifications
  // only when some channel exists: a server without any would fill the dead letter with
  // undeliverable records. A matrix naming a channel the server lacks still makes a dead
  // record, which tells the operator.
  const bool any_channel = !p->channels.channels().empty();
  std::vector<schedulers::periodic_loop> loops{
      {"notifications", std::chrono::seconds(cfg.notifications.notification_interval_seconds),
       [d = &p->delivery](events::timestamp_us now) { return d->tick(now); }}};
  if (any_channel)
    loops.push_back({"expiry-alerts",
                     std::chrono::seconds(cfg.notifications.expiry_alert_interval_seconds),
                     [a = &p->alerts](events::timestamp_us now) { return a->tick(now); }});
  schedulers::position_store positions{
      [db](const std::string& name) -> result<std::int64_t, std::string> {
        auto r = projections::load_subscriber_position(*db, name);
        if (!r) return r.error().message;
        return *r;
      },
      [db](const std::string& name, std::int64_t pos) -> result<done, std::string> {
        auto r = projections::save_subscriber_position(*db, name, pos);
        if (!r) return r.error().message;
        return done{};
      }};
  const auto every = std::chrono::seconds(cfg.notifications.notification_interval_seconds);
  if (any_channel) {
    p->events = std::make_unique<schedulers::event_notifications>(store, runtime, positions);
    loops.push_back({"event-notifications", every,
                     [e = p->events.get()](events::timestamp_us now) { return e->tick(now); }});
  }
  if (auto hook = p->channels.find("Webhook");
      hook && !cfg.notifications.webhook_event_types.empty()) {
    p->subscribers.push_back(std::make_unique<schedulers::webhook_subscriber>(
        store, positions,
        schedulers::webhook_subscription{"env-webhook", cfg.notifications.webhook_event_types,
                                         hook}));
    loops.push_back(
        {"webhook-subscription", every,
         [s = p->subscribers.back().get()](events::timestamp_us now) { return s->tick(now); }});
  }
  if (p->channels.find("Email")) {
    schedulers::digest_options o;
    o.interval = std::chrono::seconds(cfg.notifications.digest_interval_seconds);
    o.recipients = cfg.notifications.digest_recipients;
    o.build = [db](events::timestamp_us now) -> result<schedulers::digest_message, std::string> {
      auto d = projections::build_digest(*db, now);
      if (!d) return d.error().message;
      return schedulers::digest_message{d->subject, d->text, d->html};
    };
    o.owner_emails = [db]() -> result<std::vector<std::string>, std::string> {
      auto e = projections::certificate_owner_emails(*db);
      if (!e) return e.error().message;
      return std::move(*e);
    };
    o.email = p->channels.find("Email");
    p->digest = std::make_unique<schedulers::digest_sender>(std::move(o));
    if (cfg.notifications.digest_enabled)
      loops.push_back({"digest", std::chrono::seconds(cfg.notifications.digest_interval_seconds),
                       [d = p->digest.get()](events::timestamp_us now) { return d->tick(now); },
                       false});
  } else if (cfg.notifications.digest_enabled) {
    return std::string("CERTCTL_DIGEST_ENABLED needs the Email channel: set CERTCTL_SMTP_HOST");
  }
  p->runner = std::make_unique<schedulers::notification_scheduler>(
      clock, std::move(loops),
      std::min<std::chrono::milliseconds>(
          std::chrono::seconds(5),
          std::chrono::seconds(std::min(cfg.notifications.expiry_alert_interval_seconds,
                                        cfg.notifications.notification_interval_seconds))),
      [](const schedulers::tick_report& r) { std::cout << schedulers::summary(r) << std::endl; });
  return std::unique_ptr<notification_services>(new notification_services(std::move(p)));
}

void notification_services::start() {
  impl_->runner->start();
}

void notification_services::stop() {
  if (impl_ && impl_->runner) impl_->runner->stop();
}

schedulers::digest_sender* notification_services::digest() {
  return impl_->digest.get();
}

std::string notification_services::channel_list() const {
  std::string out;
  for (const auto& c : impl_->channels.channels()) out += (out.empty() ? "" : ", ") + c;
  return out.empty() ? "none" : out;
}

}  // namespace certctl::server
