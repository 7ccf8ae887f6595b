// Microsoft Teams notifier: an incoming webhook taking a legacy actionable MessageCard
// (learn.microsoft.com, "Connector card for Microsoft 365 Groups"). The URL is the credential.
// Teams answers 200 with body "1"; a card it cannot render still gets 200 with a text error
// ("Summary or Text is required."), so anything but "1" counts as failed.
#include "connectors/builtin.hpp"
#include "connectors/notifiers/common/json_post.hpp"
#include "connectors/notifiers/registrations.hpp"

namespace certctl::connectors {

namespace {

const char* theme(severity s) {
  switch (s) {
    case severity::critical:
      return "D13438";
    case severity::warning:
      return "FFB900";
    case severity::info:
      break;
  }
  return "0078D7";
}

class teams_notifier final : public http_notifier {
 public:
  teams_notifier(std::string id, http_endpoint e, http_channel_options o)
      : http_notifier("Teams", std::move(id), std::move(e), std::move(o)) {}

  certctl::result<delivery, connector_error> send(const notification& n) override {
    if (auto c = check_channel(n, "Teams", who_); !c) return c.error();
    events::json_object card;
    card.set("@type", "MessageCard")
        .set("@context", "https://schema.org/extensions")
        .set("summary", n.subject)
        .set("themeColor", theme(n.level))
        .set("title", n.subject)
        .set("text", n.body);
    // One section of facts: the details, so a reader sees the certificate and threshold.
    std::string facts = "[";
    auto add_fact = [&facts](const std::string& name, const std::string& value) {
      events::json_object f;
      f.set("name", name).set("value", value);
      if (facts.size() > 1) facts += ",";
      facts += f.dump();
    };
    if (!n.certificate_id.empty()) add_fact("Certificate", n.certificate_id);
    add_fact("Severity", std::string(to_string(n.level)));
    for (const auto& [k, v] : n.details) add_fact(k, v);
    facts += "]";
    events::json_object section;
    section.set_raw("facts", facts);
    card.set_raw("sections", "[" + section.dump() + "]");
    auto r = post_json(options_, endpoint_, card.dump(), {}, who_);
    if (!r) return r.error();
    if (r->body != "1")
      return connector_error{connector_errc::failed, who_ + ": Teams did not accept the card (" +
                                                         r->body.substr(0, 200) + ")"};
    return delivery{"", 0};
  }
};

}  // namespace

certctl::result<done, std::string> register_teams_notifier(connector_registry& registry,
                                                           const builtin_context& context) {
  notifier_registration r;
  r.type = "Teams";
  r.description = "Microsoft Teams incoming webhook (MessageCard)";
  r.schema = {{{"webhook_url", field_type::string, true, true,
                "the incoming webhook URL (its path is the credential)"},
               {"ca_bundle_path", field_type::string, false, false,
                "PEM CA bundle for the endpoint; default system store"},
               {"timeout_seconds", field_type::integer, false, false, "per request, 1-300 (10)"}}};
  r.make = [guard = context.outbound != nullptr ? *context.outbound : net::outbound_guard{}](
               const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    auto e = parse_endpoint(s.config.str("webhook_url"), "webhook_url");
    if (!e) return e.error();
    return std::shared_ptr<notifier>(
        std::make_shared<teams_notifier>(s.id, std::move(*e), channel_options(guard, s.config)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
