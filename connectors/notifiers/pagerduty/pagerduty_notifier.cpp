// PagerDuty notifier: Events API v2 (developer.pagerduty.com, "Send an Alert Event"): POST
// {routing_key, event_action: trigger, dedup_key, payload{summary, source, severity,
// custom_details}} to /v2/enqueue; 202 {"status":"success","dedup_key":...}. The dedup key is
// the certificate and event type, so a repeated alert updates one incident instead of paging
// twice. The routing key is a secret.
#include "connectors/builtin.hpp"
#include "connectors/notifiers/common/json_post.hpp"
#include "connectors/notifiers/registrations.hpp"

namespace certctl::connectors {

namespace {

bool valid_severity(const std::string& s) {
  return s == "critical" || s == "error" || s == "warning" || s == "info";
}

class pagerduty_notifier final : public http_notifier {
 public:
  pagerduty_notifier(std::string id, http_endpoint e, http_channel_options o, std::string key,
                     std::string severity_override)
      : http_notifier("PagerDuty", std::move(id), std::move(e), std::move(o)),
        key_(std::move(key)),
        severity_(std::move(severity_override)) {}

  certctl::result<delivery, connector_error> send(const notification& n) override {
    if (auto c = check_channel(n, "PagerDuty", who_); !c) return c.error();
    events::json_object payload;
    // PagerDuty caps summary at 1024 characters.
    payload.set("summary", n.subject.substr(0, 1024))
        .set("source", "certctl")
        .set("severity", severity_.empty() ? std::string(to_string(n.level)) : severity_)
        .set("component", n.certificate_id)
        .set("class", n.event_type);
    auto details = n.details;
    details["body"] = n.body;
    payload.set("custom_details", details);
    events::json_object event;
    event.set("routing_key", key_).set("event_action", "trigger");
    if (!n.certificate_id.empty())
      event.set("dedup_key", "certctl/" + n.certificate_id + "/" + n.event_type);
    event.set_raw("payload", payload.dump());
    auto r = post_json(options_, endpoint_, event.dump(), {}, who_);
    if (!r) return r.error();
    auto answer = events::json_object::parse(r->body);
    if (!answer || answer->str("status") != "success")
      return connector_error{connector_errc::failed,
                             who_ + ": unexpected answer " + r->body.substr(0, 200)};
    return delivery{answer->str("dedup_key"), 0};
  }

 private:
  std::string key_;
  std::string severity_;
};

}  // namespace

certctl::result<done, std::string> register_pagerduty_notifier(connector_registry& registry,
                                                               const builtin_context& context) {
  notifier_registration r;
  r.type = "PagerDuty";
  r.description = "PagerDuty Events API v2";
  r.schema = {{{"routing_key", field_type::string, true, true, "the service's integration key"},
               {"severity", field_type::string, false, false,
                "critical|error|warning|info for every event; default: from the alert"},
               {"events_url", field_type::string, false, false,
                "default https://events.pagerduty.com/v2/enqueue"},
               {"ca_bundle_path", field_type::string, false, false,
                "PEM CA bundle for the endpoint; default system store"},
               {"timeout_seconds", field_type::integer, false, false, "per request, 1-300 (10)"}}};
  r.make = [guard = context.outbound != nullptr ? *context.outbound : net::outbound_guard{}](
               const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    auto e = parse_endpoint(s.config.str("events_url", "https://events.pagerduty.com/v2/enqueue"),
                            "events_url");
    if (!e) return e.error();
    const std::string sev = s.config.str("severity");
    if (!sev.empty() && !valid_severity(sev))
      return connector_error{connector_errc::invalid_config,
                             "config.severity must be critical, error, warning or info"};
    return std::shared_ptr<notifier>(std::make_shared<pagerduty_notifier>(
        s.id, std::move(*e), channel_options(guard, s.config), s.config.str("routing_key"), sev));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
