// Webhook notifier: POSTs the notification as JSON to an operator's endpoint, signed with
// HMAC-SHA256 over the exact body bytes (hex, X-Certctl-Signature) when a secret is set, so
// the receiver can check that the body came from this server unchanged.
#include "connectors/builtin.hpp"
#include "connectors/notifiers/common/json_post.hpp"
#include "connectors/notifiers/registrations.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::connectors {

namespace {

class webhook_notifier final : public http_notifier {
 public:
  webhook_notifier(std::string id, http_endpoint e, http_channel_options o, std::string secret,
                   std::string header)
      : http_notifier("Webhook", std::move(id), std::move(e), std::move(o)),
        secret_(std::move(secret)),
        header_(std::move(header)) {}

  certctl::result<delivery, connector_error> send(const notification& n) override {
    if (auto c = check_channel(n, "Webhook", who_); !c) return c.error();
    const std::string delivery_id = crypto::uuid_v4();
    events::json_object body;
    body.set("id", delivery_id)
        .set("event_type", n.event_type)
        .set("severity", std::string(to_string(n.level)))
        .set("subject", n.subject)
        .set("body", n.body)
        .set("certificate_id", n.certificate_id)
        .set("recipient", n.recipient)
        .set("details", n.details);
    const std::string json = n.json_body.empty() ? body.dump() : n.json_body;
    std::vector<std::pair<std::string, std::string>> headers{{"X-Certctl-Delivery", delivery_id},
                                                             {"X-Certctl-Event", n.event_type}};
    if (!secret_.empty())
      headers.emplace_back(header_, crypto::to_hex(crypto::hmac_sha256(secret_, json)));
    auto r = post_json(options_, endpoint_, json, std::move(headers), who_);
    if (!r) return r.error();
    return delivery{delivery_id, 0};
  }

 private:
  std::string secret_;
  std::string header_;
};

}  // namespace

namespace {
config_schema webhook_notifier_schema() {
  return {{{"url", field_type::string, true, false, "http(s) endpoint the JSON is POSTed to"},
           {"secret", field_type::string, false, true,
            "HMAC-SHA256 key; the hex signature of the body goes in signature_header"},
           {"signature_header", field_type::string, false, false,
            "header carrying the signature (default X-Certctl-Signature)"},
           {"event_types", field_type::string_array, false, false,
            "event types this webhook subscribes to from the event log (empty: alerts only)"},
           {"ca_bundle_path", field_type::string, false, false,
            "PEM CA bundle the endpoint's certificate must chain to; default system store"},
           {"timeout_seconds", field_type::integer, false, false, "per request, 1-300 (10)"}}};
}
}  // namespace

certctl::result<done, std::string> register_webhook_notifier(connector_registry& registry,
                                                             const builtin_context& context) {
  notifier_registration r;
  r.type = "Webhook";
  r.description = "JSON POST to any endpoint, HMAC-SHA256 signed";
  r.schema = webhook_notifier_schema();
  r.make = [guard = context.outbound != nullptr ? *context.outbound : net::outbound_guard{}](
               const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    auto e = parse_endpoint(s.config.str("url"), "url");
    if (!e) return e.error();
    std::string header = s.config.str("signature_header", "X-Certctl-Signature");
    if (header.empty() || header.find_first_of(":\r\n ") != std::string::npos)
      return connector_error{connector_errc::invalid_config,
                             "config.signature_header must be a header name"};
    return std::shared_ptr<notifier>(
        std::make_shared<webhook_notifier>(s.id, std::move(*e), channel_options(guard, s.config),
                                           s.config.str("secret"), std::move(header)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
