#pragma once
/// The EST server gateway (RFC 7030): per profile, under /.well-known/est/<path id>/ (or the
/// legacy root /.well-known/est/), and, for profiles with mTLS, /.well-known/est-mtls/...:
///
///   GET  cacerts         the profile issuer's CA chain, PKCS#7 certs-only, base64
///   POST simpleenroll    PKCS#10 in, the issued certificate out (PKCS#7 certs-only)
///   POST simplereenroll  the same, bound to the TLS client certificate being renewed
///   GET  csrattrs        what the profile wants in a CSR (204 when nothing)
///   POST serverkeygen    the server makes the key: multipart/mixed with the certificate and
///                        the key (CMS EnvelopedData to the client's key, or PKCS#8)
///
/// Enrollments go through the ordinary issuance path (certificate.create or .renew, a job
/// awaiting the CSR, the issuance workers) with source EST, so profiles, policy, audit and
/// inventory apply as they do to REST. This file's table (est_server.cpp `status_of`) is the
/// gateway's one error-to-wire mapping: EST answers with HTTP statuses and a text body.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "gateways/http/router.hpp"
#include "infra/est_config.hpp"

namespace certctl::gateways::est {

struct est_options {
  std::vector<infra::est_profile_config> profiles;
  /// How long an enrollment waits for its certificate before answering 202 + Retry-After
  /// (the client then repeats the same request and gets the certificate).
  std::chrono::milliseconds issue_wait{20000};
  std::string renewal_policy_id = "rp-est";
  std::string team_id = "team-est";
};

struct est_dependencies {
  actors::entity_runtime& runtime;
  /// Queues a CSR issuance (issuance_service::enqueue); the callback runs once the attempt
  /// is over, whatever its outcome.
  std::function<void(actors::issuance_task, std::function<void()>)> issue;
  /// The PEM chain (leaf first) a job issued for a certificate; nullopt when none yet. Read
  /// from the log, not a read model, so the answer right after issuance sees it.
  std::function<std::optional<std::string>(const std::string& certificate_id,
                                           const std::string& job_id)>
      issued;
  /// The certctl certificate an issued serial (upper-case hex) belongs to; nullopt: unknown.
  std::function<std::optional<std::string>(const std::string& serial_hex)> certificate_by_serial;
  /// A certificate's read-model document (status, tags); nullopt: unknown.
  std::function<std::optional<events::json_object>(const std::string& certificate_id)> certificate;
  /// A certctl profile's definition; nullopt: no such profile.
  std::function<std::optional<events::json_object>(const std::string& profile_id)> profile;
  /// The CA chain (PEM) of an issuer, for cacerts and to check re-enrolling clients'
  /// certificates on the standard route; an error text when the issuer has none.
  std::function<std::optional<std::string>(const std::string& issuer_id, std::string& error)>
      ca_chain;
  /// Told about every failed EST authentication (the audit trail's auth.denied).
  std::function<void(const http::auth_event&)> on_auth_failure;
  /// Server log lines (details a client is not told). Null: standard error.
  std::function<void(const std::string&)> log;
  /// Unix seconds (rate limit windows, certificate validity checks). Null: the system clock.
  std::function<std::int64_t()> now;
};

/// Outcome of a trust-anchor reload.
enum class reload_status { reloaded, unknown_profile, mtls_disabled, failed };

struct reload_outcome {
  reload_status status = reload_status::failed;
  std::string message;  ///< what failed (the old bundle stays in use)
};

class est_server {
 public:
  /// Loads every mTLS profile's trust bundle; an error names the profile and file.
  static certctl::result<std::unique_ptr<est_server>, std::string> create(est_options options,
                                                                          est_dependencies deps);
  ~est_server();
  est_server(const est_server&) = delete;
  est_server& operator=(const est_server&) = delete;

  /// Registers the public EST routes of every profile.
  void add_routes(http::router& r);

  /// Reloads one profile's trust bundle ("" = the legacy root profile). On failure the
  /// previous bundle stays in use.
  reload_outcome reload_trust(const std::string& path_id);
  /// Reloads every mTLS profile's bundle (SIGHUP); one line per failure in the result.
  std::vector<std::string> reload_all_trust();

  /// GET /api/v1/admin/est/profiles: {"profiles": [...], "profile_count", "generated_at"}.
  std::string profiles_json() const;

  /// Whether any profile accepts TLS client certificates (the server must then ask for them).
  bool wants_client_certificates() const;

  struct impl;

 private:
  explicit est_server(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::gateways::est
