// OpsGenie notifier: Alert API v2 (docs.opsgenie.com, "Create Alert"): POST /v2/alerts with
// "Authorization: GenieKey <key>" and {message (130 chars at most), alias, description,
// priority P1-P5, source, details}; the API answers 202 {"result":"Request will be
// processed","requestId":...}. The alias de-duplicates repeats of one alert. The key is secret.
#include "connectors/builtin.hpp"
#include "connectors/notifiers/common/json_post.hpp"
#include "connectors/notifiers/registrations.hpp"

namespace certctl::connectors {

namespace {

const char* priority_of(severity s) {
  switch (s) {
    case severity::critical:
      return "P1";
    case severity::warning:
      return "P3";
    case severity::info:
      break;
  }
  return "P5";
}

class opsgenie_notifier final : public http_notifier {
 public:
  opsgenie_notifier(std::string id, http_endpoint e, http_channel_options o, std::string key,
                    std::string priority)
      : http_notifier("OpsGenie", std::move(id), std::move(e), std::move(o)),
        key_(std::move(key)),
        priority_(std::move(priority)) {}

  certctl::result<delivery, connector_error> send(const notification& n) override {
    if (auto c = check_channel(n, "OpsGenie", who_); !c) return c.error();
    events::json_object alert;
    alert.set("message", n.subject.substr(0, 130))
        .set("description", n.body.substr(0, 15000))
        .set("priority", priority_.empty() ? std::string(priority_of(n.level)) : priority_)
        .set("source", "certctl")
        .set("details", n.details)
        .set("tags", std::vector<std::string>{"certctl", n.event_type});
    if (!n.certificate_id.empty())
      alert.set("alias", ("certctl/" + n.certificate_id + "/" + n.event_type).substr(0, 512));
    auto r =
        post_json(options_, endpoint_, alert.dump(), {{"Authorization", "GenieKey " + key_}}, who_);
    if (!r) return r.error();
    auto answer = events::json_object::parse(r->body);
    return delivery{answer ? answer->str("requestId") : "", 0};
  }

 private:
  std::string key_;
  std::string priority_;
};

}  // namespace

certctl::result<done, std::string> register_opsgenie_notifier(connector_registry& registry,
                                                              const builtin_context& context) {
  notifier_registration r;
  r.type = "OpsGenie";
  r.description = "OpsGenie Alert API v2";
  r.schema = {{{"api_key", field_type::string, true, true, "the API integration's GenieKey"},
               {"priority", field_type::string, false, false,
                "P1-P5 for every alert; default: from the alert's severity"},
               {"api_url", field_type::string, false, false,
                "default https://api.opsgenie.com/v2/alerts (EU: api.eu.opsgenie.com)"},
               {"ca_bundle_path", field_type::string, false, false,
                "PEM CA bundle for the endpoint; default system store"},
               {"timeout_seconds", field_type::integer, false, false, "per request, 1-300 (10)"}}};
  r.make = [guard = context.outbound != nullptr ? *context.outbound : net::outbound_guard{}](
               const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    auto e =
        parse_endpoint(s.config.str("api_url", "https://api.opsgenie.com/v2/alerts"), "api_url");
    if (!e) return e.error();
    const std::string p = s.config.str("priority");
    if (!p.empty() && (p.size() != 2 || p[0] != 'P' || p[1] < '1' || p[1] > '5'))
      return connector_error{connector_errc::invalid_config, "config.priority must be P1-P5"};
    return std::shared_ptr<notifier>(std::make_shared<opsgenie_notifier>(
        s.id, std::move(*e), channel_options(guard, s.config), s.config.str("api_key"), p));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
