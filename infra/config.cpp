#include "infra/config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "infra/duration.hpp"

namespace certctl::infra {
namespace {

std::optional<std::int64_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

result<std::vector<std::pair<std::string, std::string>>, config_error> parse_kafka_properties(
    const std::string& text) {
  std::vector<std::string> entries;
  std::string where = "CERTCTL_KAFKA_PROPERTIES";
  if (!text.empty() && text[0] == '@') {
    // A file keeps secrets (sasl.password, ssl.key.password) out of the environment.
    const std::string path = text.substr(1);
    std::ifstream in(path);
    if (!in) return config_error{where + ": cannot read " + path};
    where += " file " + path;
    for (std::string line; std::getline(in, line);) {
      line = trim(line);
      if (!line.empty() && line[0] != '#') entries.push_back(line);
    }
  } else {
    std::stringstream in(text);
    for (std::string entry; std::getline(in, entry, ';');)
      if (!trim(entry).empty()) entries.push_back(trim(entry));
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : entries) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || trim(e.substr(0, eq)).empty())
      return config_error{where + ": \"" + e.substr(0, e.find('=')) + "\" is not key=value"};
    out.emplace_back(trim(e.substr(0, eq)), trim(e.substr(eq + 1)));
  }
  return out;
}

std::string server_config::store_url() const {
  if (!database_url.empty()) return database_url;
  return "sqlite://" +
         (std::filesystem::absolute(data_dir) / "certctl.db").lexically_normal().string();
}

std::string server_config::node_id() const {
  if (!cluster_node_id.empty()) return cluster_node_id;
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) name[0] = '\0';
  return std::string(*name ? name : "node") + "-" + std::to_string(port);
}

result<server_config, config_error> load_config(
    const std::function<const char*(const char*)>& getenv_fn) {
  server_config c;
  auto str = [&](const char* name, std::string& out) {
    if (const char* v = getenv_fn(name); v != nullptr && *v != '\0') out = v;
  };
  std::optional<config_error> err;
  auto port = [&](const char* name, int& out, int min) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return;
    auto n = parse_int(v);
    if (!n || *n < min || *n > 65535) {
      err = config_error{std::string(name) + "=" + v + " is not a TCP port (" +
                         std::to_string(min) + "-65535)"};
      return;
    }
    out = static_cast<int>(*n);
  };
  auto one_of = [&](const char* name, std::string& out,
                    std::initializer_list<const char*> allowed) {
    str(name, out);
    for (const char* a : allowed)
      if (out == a) return;
    std::string list;
    for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
    err = config_error{std::string(name) + "=" + out + " is not one of: " + list};
  };

  auto flag = [&](const char* name, bool& out) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return;
    const std::string b = v;
    if (b == "true" || b == "1")
      out = true;
    else if (b == "false" || b == "0")
      out = false;
    else
      err = config_error{std::string(name) + "=" + b + " is not true or false"};
  };

  str("CERTCTL_DATA_DIR", c.data_dir);
  str("CERTCTL_DATABASE_URL", c.database_url);
  str("CERTCTL_SERVER_HOST", c.host);
  port("CERTCTL_SERVER_PORT", c.port, 0);
  str("CERTCTL_SERVER_TLS_CERT_PATH", c.tls_cert_path);
  str("CERTCTL_SERVER_TLS_KEY_PATH", c.tls_key_path);
  one_of("CERTCTL_AUTH_TYPE", c.auth_type, {"api-key", "none"});
  str("CERTCTL_API_KEYS_NAMED", c.api_keys_named);
  one_of("CERTCTL_KEYGEN_MODE", c.keygen_mode, {"agent", "server"});
  str("CERTCTL_CA_CERT_PATH", c.ca_cert_path);
  str("CERTCTL_CA_KEY_PATH", c.ca_key_path);
  str("CERTCTL_PKI_BASE_URL", c.pki_base_url);
  str("CERTCTL_DASHBOARD_DIR", c.dashboard_dir);
  port("CERTCTL_PKI_HTTP_PORT", c.pki_http_port, 0);
  if (const char* v = getenv_fn("CERTCTL_MAX_BODY_BYTES"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 1024)
      err =
          config_error{std::string("CERTCTL_MAX_BODY_BYTES=") + v + " must be an integer >= 1024"};
    else
      c.max_body_bytes = *n;
  }
  if (const char* v = getenv_fn("CERTCTL_ISSUANCE_WORKERS"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 1 || *n > 256)
      err = config_error{std::string("CERTCTL_ISSUANCE_WORKERS=") + v + " must be 1-256"};
    else
      c.issuance_workers = static_cast<int>(*n);
  }
  str("CERTCTL_KAFKA_BOOTSTRAP_SERVERS", c.kafka_bootstrap_servers);
  str("CERTCTL_KAFKA_TOPIC", c.kafka_topic);
  if (const char* v = getenv_fn("CERTCTL_KAFKA_PROPERTIES"); v && *v) {
    auto props = parse_kafka_properties(v);
    if (!props)
      err = props.error();
    else
      c.kafka_properties = std::move(props).value();
  }
  flag("CERTCTL_CLUSTER_ENABLED", c.cluster_enabled);
  str("CERTCTL_KEY_ENCRYPTION_KEY_FILE", c.key_encryption_key_file);
  if (const char* v = getenv_fn("CERTCTL_KEY_ENCRYPTION_KEY_PREVIOUS_FILES"); v && *v) {
    std::string item;
    for (const char* p = v;; ++p) {
      if (*p == ',' || *p == '\0') {
        if (!item.empty()) c.key_encryption_key_previous_files.push_back(item);
        item.clear();
        if (*p == '\0') break;
      } else if (*p != ' ') {
        item += *p;
      }
    }
  }
  str("CERTCTL_CLUSTER_NODE_ID", c.cluster_node_id);
  str("CERTCTL_CLUSTER_COMMANDS_TOPIC", c.cluster_commands_topic);
  str("CERTCTL_CLUSTER_GROUP_ID", c.cluster_group_id);
  auto millis = [&](const char* name, int& out) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return;
    auto n = parse_int(v);
    if (!n || *n < 1000 || *n > 600000)
      err = config_error{std::string(name) + "=" + v + " must be 1000-600000 (milliseconds)"};
    else
      out = static_cast<int>(*n);
  };
  millis("CERTCTL_CLUSTER_SESSION_TIMEOUT_MS", c.cluster_session_timeout_ms);
  millis("CERTCTL_CLUSTER_REQUEST_TIMEOUT_MS", c.cluster_request_timeout_ms);
  if (const char* v = getenv_fn("CERTCTL_CLUSTER_FETCH_WAIT_MS"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 1 || *n > 10000)
      err = config_error{std::string("CERTCTL_CLUSTER_FETCH_WAIT_MS=") + v + " must be 1-10000"};
    else
      c.cluster_fetch_wait_ms = static_cast<int>(*n);
  }
  if (const char* v = getenv_fn("CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 5 || *n > 604800)
      err = config_error{std::string("CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS=") + v +
                         " must be 5-604800"};
    else
      c.job_running_timeout_seconds = static_cast<int>(*n);
  }
  if (const char* v = getenv_fn("CERTCTL_DEPLOYMENT_TIMEOUT"); v && *v) {
    auto s = parse_duration_seconds(v);
    if (!s || *s < 1 || *s > 86400)
      err = config_error{std::string("CERTCTL_DEPLOYMENT_TIMEOUT=") + v +
                         " must be a duration from 1s to 24h (\"15m\", \"90s\")"};
    else
      c.deployment_timeout_seconds = static_cast<int>(*s);
  }
  if (const char* v = getenv_fn("CERTCTL_ARI_CHECK_INTERVAL_SECONDS"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 1 || *n > 604800)
      err = config_error{std::string("CERTCTL_ARI_CHECK_INTERVAL_SECONDS=") + v +
                         " must be 1-604800"};
    else
      c.ari_check_interval_seconds = static_cast<int>(*n);
  }
  str("CERTCTL_ORDER_POLL_SCHEDULE", c.order_poll_schedule);
  if (const char* v = getenv_fn("CERTCTL_OUTBOUND_ALLOW_CIDRS"); v && *v) {
    auto cidrs = net::parse_cidr_list(v);
    if (!cidrs)
      err = config_error{"CERTCTL_OUTBOUND_ALLOW_CIDRS: " + cidrs.error().message};
    else
      c.outbound_allow_cidrs = std::move(cidrs).value();
  }
  if (const char* v = getenv_fn("CERTCTL_JOB_FRESH_GRACE_SECONDS"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 1 || *n > 86400)
      err = config_error{std::string("CERTCTL_JOB_FRESH_GRACE_SECONDS=") + v + " must be 1-86400"};
    else
      c.job_fresh_grace_seconds = static_cast<int>(*n);
  }
  if (const char* v = getenv_fn("CERTCTL_APPROVAL_TIMEOUT_HOURS"); v && *v) {
    auto n = parse_int(v);
    if (!n || *n < 1 || *n > 24 * 366)
      err = config_error{std::string("CERTCTL_APPROVAL_TIMEOUT_HOURS=") + v + " must be 1-8784"};
    else
      c.approval_timeout_hours = static_cast<int>(*n);
  }
  flag("CERTCTL_ACME_SERVER_EAB_REQUIRED", c.acme_server_eab_required);
  flag("CERTCTL_ACME_SERVER_ENABLED", c.acme_server_enabled);
  str("CERTCTL_ACME_SERVER_DEFAULT_PROFILE_ID", c.acme_server_default_profile_id);
  one_of("CERTCTL_ACME_SERVER_AUTH_MODE", c.acme_server_auth_mode,
         {"trust_authenticated", "challenge"});
  auto bounded = [&](const char* name, int& out, std::int64_t lo, std::int64_t hi) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return;
    auto n = parse_int(v);
    if (!n || *n < lo || *n > hi)
      err = config_error{std::string(name) + "=" + v + " must be " + std::to_string(lo) + "-" +
                         std::to_string(hi)};
    else
      out = static_cast<int>(*n);
  };
  bounded("CERTCTL_ACME_SERVER_ORDERS_PER_HOUR", c.acme_server_orders_per_hour, 0, 1000000);
  bounded("CERTCTL_AUDIT_CHECKPOINT_EVERY_EVENTS", c.audit_checkpoint_every_events, 0, 100000000);
  bounded("CERTCTL_AUDIT_CHECKPOINT_INTERVAL_SECONDS", c.audit_checkpoint_interval_seconds, 0,
          604800);
  str("CERTCTL_AUDIT_CHECKPOINT_FILE", c.audit_checkpoint_file);
  bounded("CERTCTL_ACME_SERVER_NONCE_TTL", c.acme_server_nonce_ttl_seconds, 10, 86400);
  str("CERTCTL_ACME_SERVER_HTTP01_HOST", c.acme_server_http01_host);
  port("CERTCTL_ACME_SERVER_HTTP01_PORT", c.acme_server_http01_port, 1);
  bounded("CERTCTL_ACME_SERVER_PENDING_ORDERS_MAX", c.acme_server_pending_orders_max, 0, 1000000);
  str("CERTCTL_ACME_SERVER_DNS_RESOLVER", c.acme_server_dns_resolver);
  if (const auto& r = c.acme_server_dns_resolver; !r.empty()) {
    // host, host:port, [v6] or [v6]:port (the full parse is the ACME gateway's).
    const auto close = r.find(']');
    const auto colon = r.front() == '[' ? (close == r.npos ? r.npos : r.find(':', close))
                                        : (r.find(':') == r.rfind(':') ? r.find(':') : r.npos);
    const auto n =
        colon == r.npos ? std::optional<std::int64_t>(53) : parse_int(r.substr(colon + 1));
    if ((r.front() == '[' && close == r.npos) || r.find_first_of(" \t") != r.npos || !n || *n < 1 ||
        *n > 65535 || colon == 0 || (r.front() == '[' && close == 1))
      err = config_error{"CERTCTL_ACME_SERVER_DNS_RESOLVER=" + r + " is not host[:port]"};
  }
  str("CERTCTL_ACME_SERVER_TLSALPN01_HOST", c.acme_server_tlsalpn01_host);
  port("CERTCTL_ACME_SERVER_TLSALPN01_PORT", c.acme_server_tlsalpn01_port, 1);
  bounded("CERTCTL_ACME_SERVER_VALIDATION_TIMEOUT", c.acme_server_validation_timeout_seconds, 1,
          300);
  bounded("CERTCTL_CRL_VALIDITY_HOURS", c.crl_validity_hours, 1, 720);
  bounded("CERTCTL_OCSP_VALIDITY_HOURS", c.ocsp_validity_hours, 1, 720);
  flag("CERTCTL_HEALTH_CHECK_ENABLED", c.health_check_enabled);
  bounded("CERTCTL_HEALTH_CHECK_MIN_INTERVAL_SECONDS", c.health_check_min_interval_seconds, 1,
          86400);
  flag("CERTCTL_NETWORK_SCAN_ENABLED", c.network_scan_enabled);
  if (const char* v = getenv_fn("CERTCTL_NETWORK_SCAN_INTERVAL"); v && *v) {
    auto s = parse_duration_seconds(v);
    if (!s || *s > 30LL * 86400)
      err = config_error{std::string("CERTCTL_NETWORK_SCAN_INTERVAL=") + v +
                         " must be a duration up to 30d (\"6h\", \"90s\")"};
    else
      c.network_scan_interval_seconds = *s;
  }
  auto positive = [&](const char* name, std::int64_t& out) {
    const char* v = getenv_fn(name);
    if (v == nullptr || *v == '\0') return;
    auto n = parse_int(v);
    if (!n || *n < 1)
      err = config_error{std::string(name) + "=" + v + " must be a positive integer"};
    else
      out = *n;
  };
  positive("CERTCTL_SSE_KEEPALIVE_MS", c.sse_keep_alive_ms);
  positive("CERTCTL_SSE_MAX_BUFFERED_EVENTS", c.sse_max_buffered_events);
  positive("CERTCTL_SSE_MAX_BUFFERED_BYTES", c.sse_max_buffered_bytes);
  positive("CERTCTL_SSE_MAX_STREAMS", c.sse_max_streams);
  if (err) return *err;
  if (auto est = load_est_profiles(getenv_fn); est)
    c.est_profiles = std::move(est).value();
  else
    return config_error{est.error().message};
  if (auto n = load_notification_config(getenv_fn); !n)
    return config_error{n.error()};
  else
    c.notifications = std::move(*n);
  if (auto cloud = load_cloud_discovery_config(getenv_fn); !cloud)
    return config_error{cloud.error()};
  else
    c.cloud_discovery = std::move(*cloud);
  if (c.tls_cert_path.empty() != c.tls_key_path.empty())
    return config_error{
        "CERTCTL_SERVER_TLS_CERT_PATH and CERTCTL_SERVER_TLS_KEY_PATH must be set together"};
  if (c.ca_cert_path.empty() != c.ca_key_path.empty())
    return config_error{"CERTCTL_CA_CERT_PATH and CERTCTL_CA_KEY_PATH must be set together"};
  if (c.cluster_enabled) {
    // Every node must share the log, the transport, the CA and the credentials; a node with
    // its own SQLite file or its own root CA would silently be a different system.
    if (c.database_url.rfind("postgres", 0) != 0)
      return config_error{"cluster mode needs PostgreSQL: set CERTCTL_DATABASE_URL"};
    if (c.kafka_bootstrap_servers.empty())
      return config_error{"cluster mode needs Kafka: set CERTCTL_KAFKA_BOOTSTRAP_SERVERS"};
    if (c.ca_cert_path.empty())
      return config_error{
          "cluster mode needs one CA for every node: set CERTCTL_CA_CERT_PATH and "
          "CERTCTL_CA_KEY_PATH"};
    if (c.auth_type != "none" && c.api_keys_named.empty())
      return config_error{
          "cluster mode needs the same API keys on every node: set CERTCTL_API_KEYS_NAMED"};
    if (c.key_encryption_key_file.empty())
      return config_error{
          "cluster mode needs one key-encryption key for every node (the shared key store): "
          "set CERTCTL_KEY_ENCRYPTION_KEY_FILE"};
  }
  if (c.host != "127.0.0.1" && c.host != "localhost" && c.host != "::1" && c.host.empty())
    return config_error{"CERTCTL_SERVER_HOST is empty"};
  return c;
}

}  // namespace certctl::infra
