#pragma once
/// Server configuration from CERTCTL_* environment variables (names as in the reference),
/// validated at start: a bad value fails fast with a message that names the variable.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/result.hpp"
#include "infra/cloud_discovery_config.hpp"
#include "infra/est_config.hpp"
#include "infra/net/ip_address.hpp"
#include "infra/notification_config.hpp"

namespace certctl::infra {

struct config_error {
  std::string message;
};

struct server_config {
  std::string data_dir = "./var";         ///< CERTCTL_DATA_DIR
  std::string database_url;               ///< CERTCTL_DATABASE_URL; empty = SQLite in data_dir
  std::string host = "127.0.0.1";         ///< CERTCTL_SERVER_HOST
  int port = 8443;                        ///< CERTCTL_SERVER_PORT; 0 picks a free port
  std::string tls_cert_path;              ///< CERTCTL_SERVER_TLS_CERT_PATH
  std::string tls_key_path;               ///< CERTCTL_SERVER_TLS_KEY_PATH
  std::string auth_type = "api-key";      ///< CERTCTL_AUTH_TYPE: api-key | none
  std::string api_keys_named;             ///< CERTCTL_API_KEYS_NAMED: name:key[:role],...
  std::string keygen_mode = "agent";      ///< CERTCTL_KEYGEN_MODE: agent | server
  std::string ca_cert_path;               ///< CERTCTL_CA_CERT_PATH (sub-CA mode)
  std::string ca_key_path;                ///< CERTCTL_CA_KEY_PATH
  std::string pki_base_url;               ///< CERTCTL_PKI_BASE_URL; default https://host:port
  int pki_http_port = -1;                 ///< CERTCTL_PKI_HTTP_PORT; -1 = off
  std::int64_t max_body_bytes = 1 << 20;  ///< CERTCTL_MAX_BODY_BYTES
  /// CERTCTL_DASHBOARD_DIR: the built web dashboard (index.html + assets/). Empty: the build's
  /// own output, when there is one; set: must hold index.html or the server refuses to start.
  std::string dashboard_dir;
  /// CERTCTL_ISSUANCE_WORKERS: issuance threads. Each spends most of its time waiting for
  /// appends and key-file fsyncs, so many of them overlap those waits on two cores.
  int issuance_workers = 16;

  /// CERTCTL_KAFKA_BOOTSTRAP_SERVERS: host:port,...; set = run the Kafka event relay.
  std::string kafka_bootstrap_servers;
  /// CERTCTL_KAFKA_TOPIC: where the relay publishes events.
  std::string kafka_topic = "certctl.events";
  /// CERTCTL_KAFKA_PROPERTIES: librdkafka properties passed through as they are, either
  /// inline "k=v;k=v" or "@/path/file" with one k=v per line ('#' starts a comment line).
  std::vector<std::pair<std::string, std::string>> kafka_properties;

  /// Cluster mode (DESIGN §9, docs/cluster.md): CERTCTL_CLUSTER_ENABLED (true/false). Needs
  /// PostgreSQL (CERTCTL_DATABASE_URL), Kafka (CERTCTL_KAFKA_BOOTSTRAP_SERVERS), one CA shared
  /// by every node (CERTCTL_CA_CERT_PATH/KEY_PATH) and shared API keys.
  bool cluster_enabled = false;
  /// CERTCTL_KEY_ENCRYPTION_KEY_FILE: a 32-byte key (mode 0600) every cluster node is given;
  /// it seals the shared key store and connector secrets (docs/cluster.md "Shared key
  /// material"). Required in cluster mode; empty on a single node = <data_dir>/master.key.
  std::string key_encryption_key_file;
  /// CERTCTL_KEY_ENCRYPTION_KEY_PREVIOUS_FILES: comma-separated older KEKs, kept for reading
  /// while a rotation re-seals what they sealed.
  std::vector<std::string> key_encryption_key_previous_files;
  std::string cluster_node_id;  ///< CERTCTL_CLUSTER_NODE_ID; "" = <hostname>-<port>
  std::string cluster_commands_topic = "certctl.commands";  ///< CERTCTL_CLUSTER_COMMANDS_TOPIC
  std::string cluster_group_id = "certctl-cluster";         ///< CERTCTL_CLUSTER_GROUP_ID
  /// CERTCTL_CLUSTER_SESSION_TIMEOUT_MS: a silent node loses its partitions after this.
  int cluster_session_timeout_ms = 10000;
  /// CERTCTL_CLUSTER_REQUEST_TIMEOUT_MS: how long a forwarded command waits for its owner.
  int cluster_request_timeout_ms = 30000;
  /// CERTCTL_CLUSTER_FETCH_WAIT_MS: the command bus consumers' fetch.wait.max.ms (1-10000).
  int cluster_fetch_wait_ms = 5;
  /// CERTCTL_JOB_RUNNING_TIMEOUT_SECONDS: a job Running this long lost its worker (a crash or
  /// a dead node) and is retried. Issuance takes milliseconds; the default is conservative.
  int job_running_timeout_seconds = 1800;
  /// CERTCTL_DEPLOYMENT_TIMEOUT: a Deployment/Validation job whose agent has not reported for
  /// this long fails ("agent <id> did not report within ..."). A duration ("15m", "90s").
  int deployment_timeout_seconds = 900;
  /// CERTCTL_ARI_CHECK_INTERVAL_SECONDS: how often ACME issuers with ari_enabled are asked for
  /// their certificates' renewal windows (RFC 9773). Default 6 h.
  int ari_check_interval_seconds = 21600;
  /// CERTCTL_ORDER_POLL_SCHEDULE: seconds between polls of a pending asynchronous CA order,
  /// comma-separated, the last repeating; each wait +-20 % jitter
  /// (actors/workflows/order_schedule).
  std::string order_poll_schedule = "5,15,45,120,300";
  /// CERTCTL_JOB_FRESH_GRACE_SECONDS: a Pending job younger than this with no attempt is left to
  /// the hand-off that created it; after a crash lost that hand-off, the job processor picks it
  /// up once the grace is over (fault tests shorten it; job.start prevents double work).
  int job_fresh_grace_seconds = 60;
  /// CERTCTL_APPROVAL_TIMEOUT_HOURS: an approval request nobody decided within this expires and
  /// its job is cancelled (docs/governance.md).
  int approval_timeout_hours = 168;
  /// CERTCTL_HEALTH_CHECK_ENABLED: run the endpoint health probe loop (docs/health-checks.md;
  /// opt-in as in the reference). CERTCTL_HEALTH_CHECK_MIN_INTERVAL_SECONDS: the shortest
  /// check_interval_seconds the API accepts (30; tests lower it).
  bool health_check_enabled = false;
  int health_check_min_interval_seconds = 30;
  /// CERTCTL_NETWORK_SCAN_ENABLED: run the periodic network TLS scanner (docs/discovery.md;
  /// opt-in as in the reference). CERTCTL_NETWORK_SCAN_INTERVAL: how often it looks for
  /// targets due ("6h"; "90s", "60m", "1d" or seconds).
  bool network_scan_enabled = false;
  std::int64_t network_scan_interval_seconds = 6 * 3600;

  /// CERTCTL_OUTBOUND_ALLOW_CIDRS: comma-separated IPv4/IPv6 CIDRs the outbound guard
  /// (infra/net) lets the server reach although they are loopback, private, link-local or
  /// otherwise non-public (ACME validation; later connectors and notifiers). Empty: none.
  std::vector<net::cidr> outbound_allow_cidrs;

  /// ACME server (RFC 8555) under /acme/: CERTCTL_ACME_SERVER_ENABLED (true/false).
  bool acme_server_enabled = false;
  std::string acme_server_default_profile_id;  ///< CERTCTL_ACME_SERVER_DEFAULT_PROFILE_ID
  /// CERTCTL_ACME_SERVER_AUTH_MODE: trust_authenticated | challenge (http-01, dns-01,
  /// tls-alpn-01); a profile's acme_auth_mode overrides it for that profile.
  std::string acme_server_auth_mode = "trust_authenticated";
  /// CERTCTL_ACME_SERVER_ORDERS_PER_HOUR: new orders per account per hour; 0 = unlimited.
  int acme_server_orders_per_hour = 300;
  int acme_server_nonce_ttl_seconds = 3600;  ///< CERTCTL_ACME_SERVER_NONCE_TTL (seconds)
  /// CERTCTL_ACME_SERVER_HTTP01_HOST: where http-01 fetches connect; "" = the identifier.
  std::string acme_server_http01_host;
  bool acme_server_eab_required = false;  ///< CERTCTL_ACME_SERVER_EAB_REQUIRED
  int acme_server_http01_port = 80;       ///< CERTCTL_ACME_SERVER_HTTP01_PORT
  /// CERTCTL_ACME_SERVER_PENDING_ORDERS_MAX: pending/ready/processing orders per account at
  /// once; 0 = unlimited.
  int acme_server_pending_orders_max = 300;
  /// CERTCTL_ACME_SERVER_DNS_RESOLVER: "host:port" dns-01 asks; "" = /etc/resolv.conf.
  std::string acme_server_dns_resolver;
  /// CERTCTL_ACME_SERVER_TLSALPN01_HOST / _PORT: where tls-alpn-01 connects; "" = identifier.
  std::string acme_server_tlsalpn01_host;
  int acme_server_tlsalpn01_port = 443;
  int acme_server_validation_timeout_seconds = 10;  ///< CERTCTL_ACME_SERVER_VALIDATION_TIMEOUT

  /// CRL and OCSP (gateways/pki): CERTCTL_CRL_VALIDITY_HOURS is a CRL's nextUpdate -
  /// thisUpdate, CERTCTL_OCSP_VALIDITY_HOURS an OCSP response's; both 1-720.
  int crl_validity_hours = 24;
  int ocsp_validity_hours = 12;

  /// The SSE event stream (gateways/stream), positive integers: a keep-alive comment after
  /// CERTCTL_SSE_KEEPALIVE_MS without an event; a client that does not read is dropped at
  /// CERTCTL_SSE_MAX_BUFFERED_EVENTS or _BYTES waiting for it; CERTCTL_SSE_MAX_STREAMS open
  /// streams at most (each holds an HTTP worker thread).
  std::int64_t sse_keep_alive_ms = 15000;
  std::int64_t sse_max_buffered_events = 1000;
  std::int64_t sse_max_buffered_bytes = 4 << 20;
  std::int64_t sse_max_streams = 16;

  /// Signed audit checkpoints (docs/architecture.md "Audit"): one every
  /// CERTCTL_AUDIT_CHECKPOINT_EVERY_EVENTS events or CERTCTL_AUDIT_CHECKPOINT_INTERVAL_SECONDS,
  /// whichever first (0 turns a trigger off; both 0 turns checkpoints off), also appended to
  /// CERTCTL_AUDIT_CHECKPOINT_FILE (JSON lines) when set.
  int audit_checkpoint_every_events = 1000;
  int audit_checkpoint_interval_seconds = 300;
  std::string audit_checkpoint_file;
  /// EST server profiles (infra/est_config.hpp): CERTCTL_EST_PROFILES or CERTCTL_EST_ENABLED.
  std::vector<est_profile_config> est_profiles;

  /// Notification channels and the digest (CERTCTL_SMTP_*, _WEBHOOK_*, _SLACK_*, _TEAMS_*,
  /// _PAGERDUTY_*, _OPSGENIE_*, _DIGEST_*): infra/notification_config.hpp.
  notification_config notifications;
  cloud_discovery_config cloud_discovery;  ///< CERTCTL_CLOUD_DISCOVERY_* and its sources

  /// The store URL the server opens: database_url, or sqlite:///<abs data_dir>/certctl.db.
  std::string store_url() const;
  /// This node's cluster id: cluster_node_id, or "<hostname>-<port>" (host and port tell nodes
  /// on one machine apart and stay the same across restarts). Call it once `port` is final.
  std::string node_id() const;
};

/// Parses CERTCTL_KAFKA_PROPERTIES' value (inline or "@file"); the error names the entry.
result<std::vector<std::pair<std::string, std::string>>, config_error> parse_kafka_properties(
    const std::string& text);

/// Reads the environment through `getenv` (injected for tests).
result<server_config, config_error> load_config(
    const std::function<const char*(const char*)>& getenv_fn);

}  // namespace certctl::infra
