// Slack notifier: an incoming webhook (api.slack.com/messaging/webhooks). The webhook URL is
// the credential, so it is a secret field. Slack answers 200 "ok"; errors are 4xx with a
// reason text ("invalid_payload", "no_service"), 429 when rate limited.
#include "connectors/builtin.hpp"
#include "connectors/notifiers/common/json_post.hpp"
#include "connectors/notifiers/registrations.hpp"

namespace certctl::connectors {

namespace {

const char* emoji(severity s) {
  switch (s) {
    case severity::critical:
      return ":rotating_light:";
    case severity::warning:
      return ":warning:";
    case severity::info:
      break;
  }
  return ":information_source:";
}

class slack_notifier final : public http_notifier {
 public:
  slack_notifier(std::string id, http_endpoint e, http_channel_options o, std::string room,
                 std::string username)
      : http_notifier("Slack", std::move(id), std::move(e), std::move(o)),
        room_(std::move(room)),
        username_(std::move(username)) {}

  certctl::result<delivery, connector_error> send(const notification& n) override {
    if (auto c = check_channel(n, "Slack", who_); !c) return c.error();
    events::json_object msg;
    // mrkdwn: the subject bold on the first line, the body below.
    msg.set("text", std::string(emoji(n.level)) + " *" + n.subject + "*\n" + n.body);
    const std::string room = n.recipient.empty() ? room_ : n.recipient;
    if (!room.empty()) msg.set("channel", room);
    if (!username_.empty()) msg.set("username", username_);
    auto r = post_json(options_, endpoint_, msg.dump(), {}, who_);
    if (!r) return r.error();
    return delivery{"", 0};
  }

 private:
  std::string room_;
  std::string username_;
};

}  // namespace

certctl::result<done, std::string> register_slack_notifier(connector_registry& registry,
                                                           const builtin_context& context) {
  notifier_registration r;
  r.type = "Slack";
  r.description = "Slack incoming webhook";
  r.schema = {{{"webhook_url", field_type::string, true, true,
                "the incoming webhook URL (its path is the credential)"},
               {"channel", field_type::string, false, false, "override channel, e.g. #pki"},
               {"username", field_type::string, false, false, "override bot name"},
               {"ca_bundle_path", field_type::string, false, false,
                "PEM CA bundle for the endpoint; default system store"},
               {"timeout_seconds", field_type::integer, false, false, "per request, 1-300 (10)"}}};
  r.make = [guard = context.outbound != nullptr ? *context.outbound : net::outbound_guard{}](
               const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    auto e = parse_endpoint(s.config.str("webhook_url"), "webhook_url");
    if (!e) return e.error();
    return std::shared_ptr<notifier>(
        std::make_shared<slack_notifier>(s.id, std::move(*e), channel_options(guard, s.config),
                                         s.config.str("channel"), s.config.str("username")));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
