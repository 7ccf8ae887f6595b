// Server configuration from the environment: defaults, parsing errors named by variable, and
// the combinations cluster mode refuses.
#define BOOST_TEST_MODULE infra_config
#include <boost/test/unit_test.hpp>
#include <map>

#include "infra/config.hpp"

using namespace certctl;

namespace {

using env = std::map<std::string, std::string>;

result<infra::server_config, infra::config_error> load(const env& e) {
  return infra::load_config([&](const char* name) -> const char* {
    auto it = e.find(name);
    return it == e.end() ? nullptr : it->second.c_str();
  });
}

env cluster_env() {
  return {{"CERTCTL_CLUSTER_ENABLED", "true"},
          {"CERTCTL_DATABASE_URL", "postgresql://certctl@127.0.0.1:5432/certctl"},
          {"CERTCTL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"},
          {"CERTCTL_CA_CERT_PATH", "/etc/certctl/ca.crt"},
          {"CERTCTL_CA_KEY_PATH", "/etc/certctl/ca.key"},
          {"CERTCTL_API_KEYS_NAMED", "ops:0123456789abcdef0123456789abcdef:admin"},
          {"CERTCTL_KEY_ENCRYPTION_KEY_FILE", "/etc/certctl/kek.key"}};
}

std::string error_of(const env& e) {
  auto r = load(e);
  return r.ok() ? std::string() : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_are_a_single_embedded_node) {
  auto c = load({});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(!c->cluster_enabled);
  BOOST_TEST(c->cluster_commands_topic == "certctl.commands");
  BOOST_TEST(c->cluster_session_timeout_ms == 10000);
  BOOST_TEST(c->cluster_fetch_wait_ms == 5);
  BOOST_TEST(c->job_running_timeout_seconds == 1800);
}

BOOST_AUTO_TEST_CASE(a_complete_cluster_configuration_loads) {
  auto e = cluster_env();
  e["CERTCTL_CLUSTER_NODE_ID"] = "node-a";
  e["CERTCTL_CLUSTER_SESSION_TIMEOUT_MS"] = "6000";
  e["CERTCTL_CLUSTER_REQUEST_TIMEOUT_MS"] = "20000";
  e["CERTCTL_CLUSTER_FETCH_WAIT_MS"] = "100";
  auto c = load(e);
  BOOST_REQUIRE_MESSAGE(c.ok(), error_of(e));
  BOOST_TEST(c->cluster_enabled);
  BOOST_TEST(c->cluster_node_id == "node-a");
  BOOST_TEST(c->cluster_session_timeout_ms == 6000);
  BOOST_TEST(c->cluster_request_timeout_ms == 20000);
  BOOST_TEST(c->cluster_fetch_wait_ms == 100);
  BOOST_TEST(c->key_encryption_key_file == "/etc/certctl/kek.key");
  BOOST_TEST(c->key_encryption_key_previous_files.empty());
  e["CERTCTL_KEY_ENCRYPTION_KEY_PREVIOUS_FILES"] =
      "/etc/certctl/kek-2025.key, /etc/certctl/kek-2024.key";
  auto rotated = load(e);
  BOOST_REQUIRE(rotated);
  BOOST_TEST(
      rotated->key_encryption_key_previous_files ==
          (std::vector<std::string>{"/etc/certctl/kek-2025.key", "/etc/certctl/kek-2024.key"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cluster_mode_refuses_what_would_split_the_system) {
  for (const char* missing :
       {"CERTCTL_DATABASE_URL", "CERTCTL_KAFKA_BOOTSTRAP_SERVERS", "CERTCTL_CA_CERT_PATH",
        "CERTCTL_API_KEYS_NAMED", "CERTCTL_KEY_ENCRYPTION_KEY_FILE"}) {
    auto e = cluster_env();
    e.erase(missing);
    if (std::string(missing) == "CERTCTL_CA_CERT_PATH") e.erase("CERTCTL_CA_KEY_PATH");
    BOOST_TEST(!error_of(e).empty(), missing);
  }
  auto sqlite = cluster_env();
  sqlite["CERTCTL_DATABASE_URL"] = "sqlite:///var/lib/certctl/certctl.db";
  BOOST_TEST(error_of(sqlite).find("PostgreSQL") != std::string::npos, error_of(sqlite));
  // Without authentication there are no keys to share.
  auto open = cluster_env();
  open.erase("CERTCTL_API_KEYS_NAMED");
  open["CERTCTL_AUTH_TYPE"] = "none";
  BOOST_TEST(error_of(open).empty(), error_of(open));
}

BOOST_AUTO_TEST_CASE(bad_values_name_their_variable) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"CERTCTL_CLUSTER_ENABLED", "yes"},
      {"CERTCTL_ACME_SERVER_ENABLED", "on"},
      {"CERTCTL_CLUSTER_SESSION_TIMEOUT_MS", "999"},
      {"CERTCTL_CLUSTER_REQUEST_TIMEOUT_MS", "ten"},
      {"CERTCTL_CLUSTER_FETCH_WAIT_MS", "0"},
      {"CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS", "4"},
      {"CERTCTL_JOB_FRESH_GRACE_SECONDS", "0"},
      {"CERTCTL_SERVER_PORT", "70000"},
  };
  for (const auto& [name, value] : bad) {
    const std::string why = error_of({{name, value}});
    BOOST_TEST(why.find(name) != std::string::npos, name << "=" << value << ": " << why);
  }
  BOOST_TEST(load({{"CERTCTL_ACME_SERVER_ENABLED", "0"}})->acme_server_enabled == false);
  BOOST_TEST(load({{"CERTCTL_ACME_SERVER_ENABLED", "1"}})->acme_server_enabled == true);
  BOOST_TEST(load({})->job_fresh_grace_seconds == 60);
  BOOST_TEST(load({{"CERTCTL_JOB_FRESH_GRACE_SECONDS", "1"}})->job_fresh_grace_seconds == 1);
}

BOOST_AUTO_TEST_CASE(revocation_and_event_stream_settings_have_defaults_and_overrides) {
  auto d = load({});
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->crl_validity_hours == 24);
  BOOST_TEST(d->ocsp_validity_hours == 12);
  BOOST_TEST(d->sse_keep_alive_ms == 15000);
  BOOST_TEST(d->sse_max_buffered_events == 1000);
  BOOST_TEST(d->sse_max_buffered_bytes == 4 << 20);
  BOOST_TEST(d->sse_max_streams == 16);
  auto c = load({{"CERTCTL_CRL_VALIDITY_HOURS", "720"},
                 {"CERTCTL_OCSP_VALIDITY_HOURS", "1"},
                 {"CERTCTL_SSE_KEEPALIVE_MS", "200"},
                 {"CERTCTL_SSE_MAX_BUFFERED_EVENTS", "5"},
                 {"CERTCTL_SSE_MAX_BUFFERED_BYTES", "65536"},
                 {"CERTCTL_SSE_MAX_STREAMS", "2"}});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->crl_validity_hours == 720);
  BOOST_TEST(c->ocsp_validity_hours == 1);
  BOOST_TEST(c->sse_keep_alive_ms == 200);
  BOOST_TEST(c->sse_max_buffered_events == 5);
  BOOST_TEST(c->sse_max_buffered_bytes == 65536);
  BOOST_TEST(c->sse_max_streams == 2);
}

BOOST_AUTO_TEST_CASE(bad_revocation_and_event_stream_values_name_their_variable) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"CERTCTL_CRL_VALIDITY_HOURS", "0"},       {"CERTCTL_CRL_VALIDITY_HOURS", "721"},
      {"CERTCTL_OCSP_VALIDITY_HOURS", "12h"},    {"CERTCTL_OCSP_VALIDITY_HOURS", "-1"},
      {"CERTCTL_SSE_KEEPALIVE_MS", "0"},         {"CERTCTL_SSE_MAX_BUFFERED_EVENTS", "many"},
      {"CERTCTL_SSE_MAX_BUFFERED_BYTES", "1e6"}, {"CERTCTL_SSE_MAX_STREAMS", " 4"},
  };
  for (const auto& [name, value] : bad) {
    const std::string why = error_of({{name, value}});
    BOOST_TEST(why.find(name + "=" + value) != std::string::npos,
               name << "=" << value << ": " << why);
  }
}

BOOST_AUTO_TEST_CASE(a_cluster_node_is_named_by_its_setting_or_host_and_port) {
  auto named = load({{"CERTCTL_CLUSTER_NODE_ID", "node-a"}});
  BOOST_REQUIRE(named.ok());
  BOOST_TEST(named->node_id() == "node-a");
  auto unnamed = load({{"CERTCTL_SERVER_PORT", "9443"}});
  BOOST_REQUIRE(unnamed.ok());
  const std::string id = unnamed->node_id();
  BOOST_TEST(id.size() > 5u);
  BOOST_TEST(id.substr(id.size() - 5) == "-9443");
}

BOOST_AUTO_TEST_CASE(the_outbound_allow_list_is_parsed_and_a_bad_entry_is_named) {
  auto none = load({});
  BOOST_REQUIRE(none.ok());
  BOOST_TEST(none->outbound_allow_cidrs.empty());
  auto two = load({{"CERTCTL_OUTBOUND_ALLOW_CIDRS", "127.0.0.1/32, fd00::/8"}});
  BOOST_REQUIRE(two.ok());
  BOOST_REQUIRE(two->outbound_allow_cidrs.size() == 2u);
  BOOST_TEST(net::to_string(two->outbound_allow_cidrs[1]) == "fd00::/8");
  const auto e = error_of({{"CERTCTL_OUTBOUND_ALLOW_CIDRS", "127.0.0.1/32,10.0.0.1/8"}});
  BOOST_TEST(e.find("CERTCTL_OUTBOUND_ALLOW_CIDRS") != std::string::npos, e);
  BOOST_TEST(e.find("10.0.0.1/8") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(audit_checkpoint_settings_have_defaults_overrides_and_bounds) {
  auto d = load({});
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->audit_checkpoint_every_events == 1000);
  BOOST_TEST(d->audit_checkpoint_interval_seconds == 300);
  BOOST_TEST(d->audit_checkpoint_file.empty());
  auto c = load({{"CERTCTL_AUDIT_CHECKPOINT_EVERY_EVENTS", "0"},
                 {"CERTCTL_AUDIT_CHECKPOINT_INTERVAL_SECONDS", "60"},
                 {"CERTCTL_AUDIT_CHECKPOINT_FILE", "/var/log/certctl/checkpoints.jsonl"}});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->audit_checkpoint_every_events == 0);
  BOOST_TEST(c->audit_checkpoint_interval_seconds == 60);
  BOOST_TEST(c->audit_checkpoint_file == "/var/log/certctl/checkpoints.jsonl");
  for (const char* name :
       {"CERTCTL_AUDIT_CHECKPOINT_EVERY_EVENTS", "CERTCTL_AUDIT_CHECKPOINT_INTERVAL_SECONDS"}) {
    const std::string why = error_of({{name, "-1"}});
    BOOST_TEST(why.find(name) != std::string::npos, why);
  }
}

BOOST_AUTO_TEST_CASE(est_profiles_are_read_per_name_and_the_legacy_root_from_est_enabled) {
  BOOST_TEST(load({})->est_profiles.empty());
  auto legacy = load({{"CERTCTL_EST_ENABLED", "true"}, {"CERTCTL_EST_ENROLLMENT_PASSWORD", "pw"}});
  BOOST_REQUIRE(legacy.ok());
  BOOST_REQUIRE(legacy->est_profiles.size() == 1u);
  BOOST_TEST(legacy->est_profiles[0].path_id == "");
  BOOST_TEST(legacy->est_profiles[0].issuer_id == "iss-local");
  BOOST_TEST(legacy->est_profiles[0].basic_required());
  auto multi = load({{"CERTCTL_EST_PROFILES", "corp, IoT-Fleet"},
                     {"CERTCTL_EST_PROFILE_CORP_ISSUER_ID", "iss-corp"},
                     {"CERTCTL_EST_PROFILE_CORP_ALLOWED_AUTH_MODES", "basic,mtls"},
                     {"CERTCTL_EST_PROFILE_CORP_ENROLLMENT_PASSWORD", "s"},
                     {"CERTCTL_EST_PROFILE_CORP_MTLS_ENABLED", "true"},
                     {"CERTCTL_EST_PROFILE_CORP_MTLS_TRUST_BUNDLE_PATH", "/b.pem"},
                     {"CERTCTL_EST_PROFILE_IOT_FLEET_ISSUER_ID", "iss-local"},
                     {"CERTCTL_EST_PROFILE_IOT_FLEET_RATE_LIMIT_PER_PRINCIPAL_24H", "3"}});
  BOOST_REQUIRE_MESSAGE(multi.ok(), (multi.ok() ? "" : multi.error().message));
  BOOST_REQUIRE(multi->est_profiles.size() == 2u);
  BOOST_TEST(multi->est_profiles[0].issuer_id == "iss-corp");
  BOOST_TEST(multi->est_profiles[0].mtls_trust_bundle_path == "/b.pem");
  BOOST_TEST(multi->est_profiles[0].mtls_required());
  BOOST_TEST(multi->est_profiles[1].path_id == "iot-fleet");
  BOOST_TEST(multi->est_profiles[1].rate_limit_per_principal_24h == 3);
}

BOOST_AUTO_TEST_CASE(est_profile_mistakes_fail_start_naming_the_variable) {
  const env base = {{"CERTCTL_EST_PROFILES", "corp"}, {"CERTCTL_EST_PROFILE_CORP_ISSUER_ID", "i"}};
  auto with = [&](env extra) {
    env e = base;
    for (auto& [k, v] : extra) e[k] = v;
    return error_of(e);
  };
  BOOST_TEST(error_of({{"CERTCTL_EST_PROFILES", "corp"}})
                 .find("CERTCTL_EST_PROFILE_CORP_ISSUER_ID is required") != std::string::npos);
  BOOST_TEST(error_of({{"CERTCTL_EST_PROFILES", "-bad"}}).find("not a profile name") !=
             std::string::npos);
  BOOST_TEST(error_of({{"CERTCTL_EST_PROFILES", "a,A"}, {"CERTCTL_EST_PROFILE_A_ISSUER_ID", "i"}})
                 .find("twice") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_ALLOWED_AUTH_MODES", "basic"}})
                 .find("CERTCTL_EST_PROFILE_CORP_ENROLLMENT_PASSWORD") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_ALLOWED_AUTH_MODES", "kerberos"}})
                 .find("not an auth mode") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_MTLS_ENABLED", "true"}})
                 .find("CERTCTL_EST_PROFILE_CORP_MTLS_CLIENT_CA_TRUST_BUNDLE_PATH") !=
             std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_CHANNEL_BINDING_REQUIRED", "true"}})
                 .find("CERTCTL_EST_PROFILE_CORP_MTLS_ENABLED") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_SERVERKEYGEN_ENABLED", "true"}})
                 .find("CERTCTL_EST_PROFILE_CORP_PROFILE_ID") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_MTLS_ENABLED", "maybe"}}).find("true or false") !=
             std::string::npos);
  BOOST_TEST(with({{"CERTCTL_EST_PROFILE_CORP_RATE_LIMIT_PER_PRINCIPAL_24H", "-1"}})
                 .find("CERTCTL_EST_PROFILE_CORP_RATE_LIMIT_PER_PRINCIPAL_24H") !=
             std::string::npos);
  BOOST_TEST(error_of({{"CERTCTL_EST_ENABLED", "yes"}}).find("CERTCTL_EST_ENABLED") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(health_check_settings_are_opt_in_with_a_bounded_interval_floor) {
  auto c = load({});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->health_check_enabled == false);
  BOOST_TEST(c->health_check_min_interval_seconds == 30);
  c = load({{"CERTCTL_HEALTH_CHECK_ENABLED", "true"},
            {"CERTCTL_HEALTH_CHECK_MIN_INTERVAL_SECONDS", "1"}});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->health_check_enabled == true);
  BOOST_TEST(c->health_check_min_interval_seconds == 1);
  BOOST_TEST(error_of({{"CERTCTL_HEALTH_CHECK_MIN_INTERVAL_SECONDS", "0"}})
                 .find("CERTCTL_HEALTH_CHECK_MIN_INTERVAL_SECONDS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_network_scanner_is_opt_in_with_a_duration_interval) {
  auto c = load({});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->network_scan_enabled == false);
  BOOST_TEST(c->network_scan_interval_seconds == 6 * 3600);
  c = load({{"CERTCTL_NETWORK_SCAN_ENABLED", "true"}, {"CERTCTL_NETWORK_SCAN_INTERVAL", "90m"}});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->network_scan_enabled == true);
  BOOST_TEST(c->network_scan_interval_seconds == 5400);
  BOOST_TEST(
      error_of({{"CERTCTL_NETWORK_SCAN_INTERVAL", "soon"}}).find("CERTCTL_NETWORK_SCAN_INTERVAL") !=
      std::string::npos);
  BOOST_TEST(
      error_of({{"CERTCTL_NETWORK_SCAN_INTERVAL", "31d"}}).find("CERTCTL_NETWORK_SCAN_INTERVAL") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_deployment_timeout_is_a_duration_with_a_default) {
  auto c = load({});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->deployment_timeout_seconds == 900);
  c = load({{"CERTCTL_DEPLOYMENT_TIMEOUT", "90s"}});
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(c->deployment_timeout_seconds == 90);
  for (const char* bad : {"never", "0s", "2d"})
    BOOST_TEST(error_of({{"CERTCTL_DEPLOYMENT_TIMEOUT", bad}}).find("CERTCTL_DEPLOYMENT_TIMEOUT") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(notification_channels_and_the_digest_come_from_the_reference_variables) {
  auto c = load({{"CERTCTL_SMTP_HOST", "smtp.example.test"},
                 {"CERTCTL_SMTP_PORT", "465"},
                 {"CERTCTL_SMTP_USERNAME", "u"},
                 {"CERTCTL_SMTP_PASSWORD", "p"},
                 {"CERTCTL_SMTP_FROM_ADDRESS", "certctl@example.test"},
                 {"CERTCTL_WEBHOOK_URL", "https://hooks.example.test/x"},
                 {"CERTCTL_WEBHOOK_SECRET", "s"},
                 {"CERTCTL_WEBHOOK_EVENT_TYPES", "certificate.issued, certificate.revoked"},
                 {"CERTCTL_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x"},
                 {"CERTCTL_SLACK_CHANNEL", "#pki"},
                 {"CERTCTL_PAGERDUTY_ROUTING_KEY", "rk"},
                 {"CERTCTL_OPSGENIE_API_KEY", "ok"},
                 {"CERTCTL_OPSGENIE_PRIORITY", "P2"},
                 {"CERTCTL_DIGEST_ENABLED", "true"},
                 {"CERTCTL_DIGEST_INTERVAL", "7d"},
                 {"CERTCTL_DIGEST_RECIPIENTS", "a@example.test, b@example.test"}});
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().message));
  const auto& n = c->notifications;
  BOOST_TEST(n.smtp_host == "smtp.example.test");
  BOOST_TEST(n.smtp_port == 465);
  BOOST_TEST(n.smtp_use_tls);
  BOOST_TEST(n.webhook_event_types ==
             (std::vector<std::string>{"certificate.issued", "certificate.revoked"}));
  BOOST_TEST(n.slack_channel == "#pki");
  BOOST_TEST(n.opsgenie_priority == "P2");
  BOOST_TEST(n.digest_enabled);
  BOOST_TEST(n.digest_interval_seconds == 7 * 86400);
  BOOST_TEST(n.digest_recipients == (std::vector<std::string>{"a@example.test", "b@example.test"}));
  BOOST_TEST(load({}).value().notifications.digest_interval_seconds == 86400);
  BOOST_TEST(load({}).value().notifications.expiry_alert_interval_seconds == 600);
  auto fast =
      load({{"CERTCTL_EXPIRY_ALERT_INTERVAL", "1s"}, {"CERTCTL_NOTIFICATION_INTERVAL", "2"}});
  BOOST_REQUIRE(fast.ok());
  BOOST_TEST(fast->notifications.expiry_alert_interval_seconds == 1);
  BOOST_TEST(fast->notifications.notification_interval_seconds == 2);
  BOOST_TEST(
      error_of({{"CERTCTL_NOTIFICATION_INTERVAL", "0s"}}).find("CERTCTL_NOTIFICATION_INTERVAL") ==
      0u);
}

BOOST_AUTO_TEST_CASE(bad_notification_variables_are_named) {
  BOOST_TEST(error_of({{"CERTCTL_SMTP_HOST", "h"}}).find("CERTCTL_SMTP_FROM_ADDRESS") == 0u);
  BOOST_TEST(error_of({{"CERTCTL_SMTP_PORT", "70000"}}).find("CERTCTL_SMTP_PORT") == 0u);
  BOOST_TEST(error_of({{"CERTCTL_SMTP_USE_TLS", "yes"}}).find("CERTCTL_SMTP_USE_TLS") == 0u);
  BOOST_TEST(error_of({{"CERTCTL_SMTP_HOST", "h"},
                       {"CERTCTL_SMTP_FROM_ADDRESS", "a@b.test"},
                       {"CERTCTL_SMTP_USERNAME", "u"},
                       {"CERTCTL_SMTP_USE_TLS", "false"}})
                 .find("CERTCTL_SMTP_USERNAME") == 0u);
  BOOST_TEST(
      error_of({{"CERTCTL_PAGERDUTY_SEVERITY", "urgent"}}).find("CERTCTL_PAGERDUTY_SEVERITY") ==
      0u);
  BOOST_TEST(error_of({{"CERTCTL_OPSGENIE_PRIORITY", "P0"}}).find("CERTCTL_OPSGENIE_PRIORITY") ==
             0u);
  BOOST_TEST(error_of({{"CERTCTL_DIGEST_INTERVAL", "soon"}}).find("CERTCTL_DIGEST_INTERVAL") == 0u);
  BOOST_TEST(error_of({{"CERTCTL_DIGEST_INTERVAL", "10s"}}).find("CERTCTL_DIGEST_INTERVAL") == 0u);
}
