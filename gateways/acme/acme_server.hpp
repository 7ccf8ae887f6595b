#pragma once
/// The ACME server gateway (RFC 8555): decodes and authenticates JWS requests, turns them into
/// commands for the acme_account / acme_order / acme_authz entities, hands finalized orders to
/// the ordinary issuance path (source ACME, principal "acme:<account id>"), and renders RFC
/// 7807 problems. Routes live under /acme/ (default profile) and /acme/profile/{profile}/.
///
/// Authorisation modes: trust_authenticated creates authorizations already valid (the account's
/// signed request is the proof: internal PKI where the network is the trust boundary);
/// challenge runs http-01, dns-01 and tls-alpn-01 validation on worker threads against a
/// configurable host, port and resolver. A certctl profile may override the mode and the EAB
/// requirement for its /acme/profile/{id}/ (fields acme_auth_mode, acme_eab_required).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "gateways/acme/nonce_store.hpp"
#include "gateways/http/router.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::gateways::acme {

struct acme_options {
  /// Scheme, host and port clients reach us at, no trailing slash ("https://127.0.0.1:8443").
  /// JWS "url" headers must equal this plus the request path.
  std::string base_url;
  std::string default_profile_id;  ///< certctl certificate profile for /acme/ ("" = none)
  std::string auth_mode = "trust_authenticated";  ///< or "challenge"
  std::string terms_of_service;                   ///< directory meta; "" = omitted
  std::string website;
  std::vector<std::string> caa_identities;
  std::chrono::seconds nonce_ttl{3600};
  std::size_t max_nonces = 200000;
  /// Cluster mode: the secret of the stateless nonces every node can check (nonce_store.hpp);
  /// used together with acme_dependencies::nonce_record. Empty: nonces in this node's memory.
  std::string nonce_secret;
  std::size_t max_body_bytes = 64 * 1024;
  int orders_per_hour = 300;  ///< per account; 0 = unlimited
  /// Orders an account may have pending, ready or processing at once; 0 = unlimited.
  int pending_orders_max = 300;
  /// RFC 8555 §7.3.4: new-account must carry an externalAccountBinding made with an EAB key
  /// an admin created (POST /api/v1/admin/acme/eab-keys).
  bool eab_required = false;
  int max_identifiers = 100;  ///< per order
  std::chrono::hours order_lifetime{24 * 7};
  /// The certctl certificate every finalized order creates refers to these.
  std::string issuer_id = "iss-local";
  std::string renewal_policy_id = "rp-acme";
  std::string team_id = "team-acme";
  /// challenge mode: where http-01 fetches go. Empty host = the identifier itself.
  std::string http01_host;
  int http01_port = 80;
  /// challenge mode: where tls-alpn-01 connects (RFC 8737). Empty host = the identifier.
  std::string tlsalpn01_host;
  int tlsalpn01_port = 443;
  /// challenge mode: the DNS resolver dns-01 asks, "host:port" ("" = the first nameserver of
  /// /etc/resolv.conf, port 53).
  std::string dns_resolver;
  std::chrono::seconds validation_timeout{10};
  /// Every validation connection (http-01, tls-alpn-01) goes through this guard: by default
  /// it refuses loopback, private, link-local and other non-public addresses; the operator's
  /// CERTCTL_OUTBOUND_ALLOW_CIDRS widens it. The dns-01 resolver is the operator's own
  /// setting, not a client's, and is not guarded.
  net::outbound_guard outbound;
  int validation_workers = 4;  ///< threads running validations (each may wait for a timeout)
  /// Single node: no other node changes accounts, so the account a kid request names is
  /// kept in memory (written through by this server's own account commands, re-read after
  /// account_cache_ttl) instead of being read from its entity on every request. Off in a
  /// cluster, where another node may deactivate an account or change its key.
  bool cache_accounts = false;
  std::chrono::milliseconds account_cache_ttl{5000};
  /// finalize waits up to this long for the issuance before answering "processing".
  std::chrono::milliseconds finalize_wait{2000};
  /// renewal-info: the Retry-After of a suggested window (RFC 9773 §4.3).
  std::chrono::seconds renewal_info_retry_after{21600};
};

/// The latest issued version of a certctl certificate.
struct issued_certificate {
  std::string pem_chain;  ///< leaf first
  std::string serial_number;
};

/// One issued version of a certctl certificate, found by its serial.
struct certificate_version {
  std::string certificate_id;
  std::string pem_chain;  ///< leaf first
};

struct acme_dependencies {
  actors::entity_runtime& runtime;
  /// Queues a CSR issuance (normally issuance_service::enqueue); the second argument is to be
  /// called once the attempt is over, whatever its outcome (finalize waits for it).
  std::function<void(actors::issuance_task, std::function<void()>)> issue;
  /// Latest issued version of a certificate; nullopt when none.
  std::function<std::optional<issued_certificate>(const std::string& certificate_id)> issued;
  /// certctl certificate id of an issued serial (upper-case hex); nullopt when unknown.
  std::function<std::optional<std::string>(const std::string& serial_hex)> certificate_by_serial;
  /// The issued version with this serial (upper-case hex); nullopt when unknown (renewal-info).
  std::function<std::optional<certificate_version>(const std::string& serial_hex)>
      version_by_serial;
  /// A renewal policy's definition; nullopt when there is no such policy.
  std::function<std::optional<events::json_object>(const std::string& policy_id)> renewal_policy;
  /// A certctl profile's definition; nullopt when there is no such profile.
  std::function<std::optional<events::json_object>(const std::string& profile_id)> profile;
  /// Where EAB HMAC keys are kept, sealed (ids "acme-eab-<key id>"); nullptr: no EAB keys.
  crypto::key_store* secrets = nullptr;
  /// Cluster mode: the shared used-nonce record (shared_nonce_log.hpp), with nonce_secret.
  nonce_recorder nonce_record = nullptr;
  /// The server log, for what a validation failure hides from the client (addresses,
  /// ports, socket and TLS errors). Null: standard error.
  std::function<void(const std::string&)> log = nullptr;
};

class acme_server {
 public:
  acme_server(acme_options options, acme_dependencies deps);
  ~acme_server();
  acme_server(const acme_server&) = delete;
  acme_server& operator=(const acme_server&) = delete;

  /// Registers every ACME route (public: ACME authenticates by JWS, not API keys).
  void add_routes(http::router& r);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::gateways::acme
