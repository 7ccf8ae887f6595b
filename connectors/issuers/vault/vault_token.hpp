#pragma once
/// The Vault token an issuer of type VaultPKI uses, and the loop that keeps it alive.
///
///   token auth:   the configured token; lookup-self once for its TTL
///   AppRole auth: POST /v1/auth/approle/login {role_id, secret_id} on first use, and again
///                 after a 403 (the token expired or was revoked) or when renewal is refused
///
///   renewal loop: wait TTL/2 -> POST /v1/auth/token/renew-self
///                   ok, renewable      -> new TTL, wait again          result="success"
///                   renewable: false   -> token auth: stop, log WARN   result="not_renewable"
///                                         AppRole: log in again at expiry
///                   failure (5xx, ...) -> retry after min(TTL/2, 60 s)  result="failure"
///
/// The loop starts with the first CA call, not at construction, so the connectors the issuer
/// test builds and drops never start one. Thread-safe.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "connectors/issuers/external_ca.hpp"

namespace certctl::connectors::vault {

struct token_config {
  std::string token;      ///< token auth
  std::string role_id;    ///< AppRole auth (with secret_id)
  std::string secret_id;  ///< secret
  std::string approle_mount = "approle";
  std::string vault_namespace;  ///< X-Vault-Namespace, "" for none
  bool renew = true;
};

/// What one renew-self (or login) learned.
struct token_state {
  std::int64_t ttl_seconds = 0;
  bool renewable = false;
};

class token_source {
 public:
  using observer = std::function<void(const std::string& result)>;
  token_source(const external_ca::https_client& client, token_config config, observer on_renewal,
               std::string who);
  ~token_source();
  token_source(const token_source&) = delete;
  token_source& operator=(const token_source&) = delete;

  /// The token to send; logs in first under AppRole. Starts the renewal loop once.
  certctl::result<std::string, issuer_error> token();
  /// After a 403: AppRole logs in again and answers the new token; token auth answers the error.
  certctl::result<std::string, issuer_error> after_denied(const issuer_error& denied);
  /// GET lookup-self with the current token (self test; no side effect).
  certctl::result<token_state, issuer_error> lookup();
  /// One renew-self now, reported to the observer like the loop's (tests, and the loop).
  certctl::result<token_state, issuer_error> renew_once();

  /// Headers for a Vault call with `token`.
  std::vector<std::pair<std::string, std::string>> headers(const std::string& token) const;

 private:
  certctl::result<std::string, issuer_error> login_locked();
  void start_loop_locked();
  void loop();

  const external_ca::https_client& client_;
  token_config config_;
  observer on_renewal_;
  std::string who_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::string current_;
  token_state state_;
  bool stopping_ = false;
  std::thread loop_;
};

/// The "errors" array of a Vault error body, joined; the body's excerpt when there is none.
std::string vault_errors(const external_ca::http_reply& reply);

}  // namespace certctl::connectors::vault
