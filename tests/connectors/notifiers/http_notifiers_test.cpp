// The five HTTP notifiers (Webhook, Slack, Teams, PagerDuty, OpsGenie) against local HTTPS
// servers on loopback that follow each vendor's documented API (request shape checked the way
// the vendor checks it, answers as the vendor gives them), with a certificate made here and
// given as the notifier's CA bundle. No vendor service can run here; these servers stand in.
#define BOOST_TEST_MODULE connectors_http_notifiers
#include <httplib.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <mutex>
#include <thread>

#include "connectors/notifiers/registrations.hpp"
#include "events/json.hpp"
#include "infra/crypto/sha256.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using namespace certctl::connectors;
namespace fs = std::filesystem;

namespace {

int errc(connector_errc c) {
  return static_cast<int>(c);
}

/// One HTTPS server for a test case: the route under test records what it got; `fail_next`
/// answers the next requests with the given statuses first (5xx, 429, ...).
class vendor_server {
 public:
  vendor_server() {
    dir_ = fs::temp_directory_path() /
           ("certctl-notifiers-" + std::to_string(::getpid()) + "-" + std::to_string(++seq()));
    fs::create_directories(dir_);
    auto r = testing::run_shell(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
        "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string());
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    server_ = std::make_unique<httplib::SSLServer>((dir_ / "cert.pem").c_str(),
                                                   (dir_ / "key.pem").c_str());
    BOOST_REQUIRE(server_->is_valid());
    server_->set_tcp_nodelay(true);
  }
  ~vendor_server() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
    fs::remove_all(dir_);
  }

  /// Serves `path`: `handler` runs after the queued failures are used up.
  void route(const std::string& path,
             std::function<void(const httplib::Request&, httplib::Response&)> handler) {
    server_->Post(path, [this, handler](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      if (!failures_.empty()) {
        res.status = failures_.front();
        failures_.erase(failures_.begin());
        res.set_content("{\"message\":\"try later\"}", "application/json");
        return;
      }
      handler(req, res);
      if (res.status >= 200 && res.status < 300) ++accepted_;
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    BOOST_REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // stop() before the listen loop runs would be lost (the loop would then run forever):
    // wait until it runs. Start-up synchronisation, bounded.
    for (int i = 0; i < 5000 && !server_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    BOOST_REQUIRE(server_->is_running());
  }

  void fail_next(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_ = std::move(statuses);
  }
  std::string base() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string bundle() const { return (dir_ / "cert.pem").string(); }
  std::size_t accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    return accepted_;
  }
  httplib::Request last() {
    std::lock_guard<std::mutex> lock(mu_);
    BOOST_REQUIRE(!requests_.empty());
    return requests_.back();
  }
  std::size_t requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

 private:
  static int& seq() {
    static int n = 0;
    return n;
  }
  fs::path dir_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<httplib::Request> requests_;
  std::vector<int> failures_;
  std::size_t accepted_ = 0;
};

struct world {
  connector_registry registry;
  explicit world(bool allow_loopback = true) {
    builtin_context ctx;
    static const net::outbound_guard loopback({*net::parse_cidr("127.0.0.1/32")});
    if (allow_loopback) ctx.outbound = &loopback;
    BOOST_REQUIRE(register_webhook_notifier(registry, ctx).ok());
    BOOST_REQUIRE(register_slack_notifier(registry, ctx).ok());
    BOOST_REQUIRE(register_teams_notifier(registry, ctx).ok());
    BOOST_REQUIRE(register_pagerduty_notifier(registry, ctx).ok());
    BOOST_REQUIRE(register_opsgenie_notifier(registry, ctx).ok());
  }
  std::shared_ptr<notifier> make(const std::string& type, const std::string& json) {
    auto cfg = events::json_object::parse(json);
    BOOST_REQUIRE(cfg.has_value());
    const auto* reg = registry.find_notifier(type);
    BOOST_REQUIRE(reg != nullptr);
    auto valid = validate_config(reg->schema, *cfg);
    BOOST_REQUIRE_MESSAGE(valid.ok(), (valid.ok() ? std::string() : valid.error().message));
    auto n = reg->make({"n-1", *cfg});
    BOOST_REQUIRE_MESSAGE(n.ok(), (n.ok() ? std::string() : n.error().message));
    return *n;
  }
};

notification alert(const std::string& channel, severity level = severity::critical) {
  notification n;
  n.channel = channel;
  n.level = level;
  n.subject = "Certificate api.example.test expires in 0 days";
  n.body = "Certificate mc-1 expires today.";
  n.event_type = "certificate.expiring";
  n.certificate_id = "mc-1";
  n.details = {{"threshold_days", "0"}, {"common_name", "api.example.test"}};
  return n;
}

events::json_object body_of(const httplib::Request& req) {
  auto j = events::json_object::parse(req.body);
  BOOST_REQUIRE_MESSAGE(j.has_value(), req.body);
  return *j;
}

void json_reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_notifiers)

BOOST_AUTO_TEST_CASE(webhook_posts_json_signed_with_hmac_sha256_of_the_exact_body) {
  vendor_server s;
  s.route("/hooks/certctl",
          [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  world w;
  auto n = w.make("Webhook", R"({"url":")" + s.base() +
                                 R"(/hooks/certctl","secret":"hook-key-1",)"
                                 R"("ca_bundle_path":")" +
                                 s.bundle() + "\"}");
  auto sent = n->send(alert("Webhook"));
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  const auto req = s.last();
  BOOST_TEST(req.get_header_value("Content-Type") == "application/json");
  BOOST_TEST(req.get_header_value("X-Certctl-Signature") ==
             crypto::to_hex(crypto::hmac_sha256("hook-key-1", req.body)));
  BOOST_TEST(req.get_header_value("X-Certctl-Event") == "certificate.expiring");
  BOOST_TEST(req.get_header_value("X-Certctl-Delivery") == sent->message_id);
  const auto b = body_of(req);
  BOOST_TEST(b.str("event_type") == "certificate.expiring");
  BOOST_TEST(b.str("severity") == "critical");
  BOOST_TEST(b.str("certificate_id") == "mc-1");
  BOOST_TEST(b.str_map("details").at("threshold_days") == "0");
  BOOST_TEST(req.body.find("hook-key-1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(webhook_without_a_secret_sends_no_signature) {
  vendor_server s;
  s.route("/h", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  world w;
  auto n = w.make("Webhook",
                  R"({"url":")" + s.base() + R"(/h","ca_bundle_path":")" + s.bundle() + "\"}");
  BOOST_REQUIRE(n->send(alert("Webhook")).ok());
  BOOST_TEST(!s.last().has_header("X-Certctl-Signature"));
}

BOOST_AUTO_TEST_CASE(slack_incoming_webhook_gets_text_channel_and_username) {
  vendor_server s;
  // Slack: 200 "ok"; a payload without text is 400 "no_text".
  s.route("/services/T000/B000/tok3n", [](const httplib::Request& req, httplib::Response& res) {
    auto j = events::json_object::parse(req.body);
    if (!j || j->str("text").empty()) {
      res.status = 400;
      res.set_content("no_text", "text/plain");
      return;
    }
    res.set_content("ok", "text/plain");
  });
  world w;
  auto n =
      w.make("Slack", R"({"webhook_url":")" + s.base() +
                          R"(/services/T000/B000/tok3n","channel":"#pki","username":"certctl",)"
                          R"("ca_bundle_path":")" +
                          s.bundle() + "\"}");
  auto sent = n->send(alert("Slack"));
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  const auto b = body_of(s.last());
  BOOST_TEST(b.str("channel") == "#pki");
  BOOST_TEST(b.str("username") == "certctl");
  BOOST_TEST(b.str("text").find("*Certificate api.example.test expires in 0 days*") !=
             std::string::npos);
  BOOST_TEST(b.str("text").find("Certificate mc-1 expires today.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(slack_errors_never_quote_the_webhook_url_which_is_the_credential) {
  vendor_server s;
  s.route("/services/T000/B000/s3cr3t-path", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("no_service", "text/plain");
  });
  world w;
  auto n = w.make("Slack", R"({"webhook_url":")" + s.base() +
                               R"(/services/T000/B000/s3cr3t-path","ca_bundle_path":")" +
                               s.bundle() + "\"}");
  auto sent = n->send(alert("Slack"));
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(errc(sent.error().code) == errc(connector_errc::failed));
  BOOST_TEST(sent.error().message.find("no_service") != std::string::npos);
  BOOST_TEST(sent.error().message.find("s3cr3t-path") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(teams_gets_a_message_card_and_requires_the_answer_1) {
  vendor_server s;
  // Teams: 200 "1" when the card renders; 200 with an error text when it does not.
  s.route("/webhookb2/abc/IncomingWebhook/def",
          [](const httplib::Request& req, httplib::Response& res) {
            auto j = events::json_object::parse(req.body);
            if (!j || j->str("@type") != "MessageCard" ||
                (j->str("summary").empty() && j->str("text").empty())) {
              res.set_content("Summary or Text is required.", "text/plain");
              return;
            }
            res.set_content("1", "text/plain");
          });
  world w;
  auto n = w.make("Teams", R"({"webhook_url":")" + s.base() +
                               R"(/webhookb2/abc/IncomingWebhook/def","ca_bundle_path":")" +
                               s.bundle() + "\"}");
  auto sent = n->send(alert("Teams", severity::warning));
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  const auto b = body_of(s.last());
  BOOST_TEST(b.str("@context") == "https://schema.org/extensions");
  BOOST_TEST(b.str("summary") == "Certificate api.example.test expires in 0 days");
  BOOST_TEST(b.str("themeColor") == "FFB900");
  const auto sections = b.object_array("sections");
  BOOST_REQUIRE(sections.size() == 1u);
  const auto facts = sections[0].object_array("facts");
  BOOST_REQUIRE(facts.size() == 4u);
  BOOST_TEST(facts[0].str("name") == "Certificate");
  BOOST_TEST(facts[0].str("value") == "mc-1");
}

BOOST_AUTO_TEST_CASE(pagerduty_events_v2_trigger_with_dedup_key_and_severity) {
  vendor_server s;
  const std::string key = "R0UTINGKEY0123456789abcdef012345";  // 32 characters, as issued
  s.route("/v2/enqueue", [key](const httplib::Request& req, httplib::Response& res) {
    auto j = events::json_object::parse(req.body);
    auto p = j ? events::json_object::parse(j->raw("payload")) : std::nullopt;
    const std::string sev = p ? p->str("severity") : "";
    if (!j || j->str("routing_key") != key || j->str("event_action") != "trigger" || !p ||
        p->str("summary").empty() || p->str("source").empty() ||
        (sev != "critical" && sev != "error" && sev != "warning" && sev != "info")) {
      json_reply(res, 400,
                 R"({"status":"invalid event","message":"Event object is invalid","errors":[]})");
      return;
    }
    json_reply(res, 202,
               R"({"status":"success","message":"Event processed","dedup_key":")" +
                   j->str("dedup_key") + "\"}");
  });
  world w;
  auto n = w.make("PagerDuty", R"({"routing_key":")" + key + R"(","events_url":")" + s.base() +
                                   R"(/v2/enqueue","ca_bundle_path":")" + s.bundle() + "\"}");
  auto sent = n->send(alert("PagerDuty"));
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  BOOST_TEST(sent->message_id == "certctl/mc-1/certificate.expiring");
  const auto b = body_of(s.last());
  const auto payload = events::json_object::parse(b.raw("payload"));
  BOOST_REQUIRE(payload.has_value());
  BOOST_TEST(payload->str("severity") == "critical");
  BOOST_TEST(payload->str("source") == "certctl");
  BOOST_TEST(payload->str_map("custom_details").at("threshold_days") == "0");
}

BOOST_AUTO_TEST_CASE(pagerduty_5xx_is_retryable_and_the_retry_is_delivered_once) {
  vendor_server s;
  s.route("/v2/enqueue", [](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 202, R"({"status":"success","message":"Event processed","dedup_key":"k"})");
  });
  s.fail_next({503});
  world w;
  auto n =
      w.make("PagerDuty", R"({"routing_key":"secret-routing-key-0000000000000","events_url":")" +
                              s.base() + R"(/v2/enqueue","ca_bundle_path":")" + s.bundle() + "\"}");
  auto first = n->send(alert("PagerDuty"));
  BOOST_REQUIRE(!first.ok());
  BOOST_TEST(errc(first.error().code) == errc(connector_errc::unavailable));
  BOOST_TEST(first.error().message.find("secret-routing-key") == std::string::npos);
  BOOST_TEST(s.accepted() == 0u);
  BOOST_REQUIRE(n->send(alert("PagerDuty")).ok());
  BOOST_TEST(s.accepted() == 1u);
  BOOST_TEST(s.requests() == 2u);
}

BOOST_AUTO_TEST_CASE(opsgenie_alert_api_with_genie_key_priority_and_alias) {
  vendor_server s;
  s.route("/v2/alerts", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "GenieKey og-key-123") {
      json_reply(res, 401, R"({"message":"Could not authenticate","took":0.0,"requestId":"x"})");
      return;
    }
    auto j = events::json_object::parse(req.body);
    if (!j || j->str("message").empty() || j->str("message").size() > 130) {
      json_reply(res, 422, R"({"message":"Request body is not processable","took":0.0})");
      return;
    }
    json_reply(res, 202, R"({"result":"Request will be processed","took":0.1,"requestId":"r-9"})");
  });
  world w;
  auto n = w.make("OpsGenie", R"({"api_key":"og-key-123","api_url":")" + s.base() +
                                  R"(/v2/alerts","ca_bundle_path":")" + s.bundle() + "\"}");
  auto sent = n->send(alert("OpsGenie", severity::warning));
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  BOOST_TEST(sent->message_id == "r-9");
  const auto b = body_of(s.last());
  BOOST_TEST(b.str("priority") == "P3");
  BOOST_TEST(b.str("alias") == "certctl/mc-1/certificate.expiring");
  BOOST_TEST(b.str("source") == "certctl");

  auto wrong = w.make("OpsGenie", R"({"api_key":"og-key-WRONG","api_url":")" + s.base() +
                                      R"(/v2/alerts","ca_bundle_path":")" + s.bundle() + "\"}");
  auto refused = wrong->send(alert("OpsGenie"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(errc(refused.error().code) == errc(connector_errc::failed));
  BOOST_TEST(refused.error().message.find("og-key-WRONG") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_429_is_retryable_and_a_400_is_not) {
  vendor_server s;
  s.route("/h", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  s.fail_next({429, 400});
  world w;
  auto n = w.make("Webhook",
                  R"({"url":")" + s.base() + R"(/h","ca_bundle_path":")" + s.bundle() + "\"}");
  BOOST_TEST(errc(n->send(alert("Webhook")).error().code) == errc(connector_errc::unavailable));
  BOOST_TEST(errc(n->send(alert("Webhook")).error().code) == errc(connector_errc::failed));
  BOOST_TEST(n->send(alert("Webhook")).ok());
}

BOOST_AUTO_TEST_CASE(an_endpoint_with_an_untrusted_certificate_is_not_sent_anything) {
  vendor_server s;
  vendor_server other;  // its certificate is a different trust anchor
  s.route("/h", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  world w;
  auto n = w.make("Webhook",
                  R"({"url":")" + s.base() + R"(/h","ca_bundle_path":")" + other.bundle() + "\"}");
  auto sent = n->send(alert("Webhook"));
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(s.requests() == 0u);
}

BOOST_AUTO_TEST_CASE(loopback_endpoints_need_the_outbound_allow_list) {
  vendor_server s;
  s.route("/h", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  world w(false);
  auto n = w.make("Webhook",
                  R"({"url":")" + s.base() + R"(/h","ca_bundle_path":")" + s.bundle() + "\"}");
  auto sent = n->send(alert("Webhook"));
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(errc(sent.error().code) == errc(connector_errc::invalid_config));
  BOOST_TEST(s.requests() == 0u);
}

BOOST_AUTO_TEST_CASE(a_notification_for_another_channel_is_refused) {
  world w;
  auto n = w.make("Slack", R"({"webhook_url":"https://hooks.slack.com/services/T/B/x"})");
  auto sent = n->send(alert("Email"));
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(errc(sent.error().code) == errc(connector_errc::invalid_request));
}

BOOST_AUTO_TEST_CASE(secret_fields_are_marked_so_they_are_sealed_and_redacted) {
  world w;
  BOOST_TEST(w.registry.schema(connector_kind::notifier, "Webhook")->secret_fields() ==
             std::vector<std::string>{"secret"});
  BOOST_TEST(w.registry.schema(connector_kind::notifier, "Slack")->secret_fields() ==
             std::vector<std::string>{"webhook_url"});
  BOOST_TEST(w.registry.schema(connector_kind::notifier, "Teams")->secret_fields() ==
             std::vector<std::string>{"webhook_url"});
  BOOST_TEST(w.registry.schema(connector_kind::notifier, "PagerDuty")->secret_fields() ==
             std::vector<std::string>{"routing_key"});
  BOOST_TEST(w.registry.schema(connector_kind::notifier, "OpsGenie")->secret_fields() ==
             std::vector<std::string>{"api_key"});
}

BOOST_AUTO_TEST_CASE(bad_urls_and_enums_are_refused_when_the_notifier_is_made) {
  world w;
  for (const auto& [type, cfg] : std::vector<std::pair<std::string, std::string>>{
           {"Webhook", R"({"url":"ftp://x/y"})"},
           {"Webhook", R"({"url":"https://user:pw@host/x"})"},
           {"Webhook", R"({"url":"https://host:99999/x"})"},
           {"Slack", R"({"webhook_url":"hooks.slack.com/x"})"},
           {"PagerDuty", R"({"routing_key":"k","severity":"urgent"})"},
           {"OpsGenie", R"({"api_key":"k","priority":"P9"})"}}) {
    auto parsed = events::json_object::parse(cfg);
    auto made = w.registry.find_notifier(type)->make({"n-x", *parsed});
    BOOST_TEST(!made.ok(), type << " " << cfg);
    if (!made.ok()) BOOST_TEST(made.error().message.find("pw@") == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
