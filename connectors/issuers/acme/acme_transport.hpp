#pragma once
/// The ACME client's wire (RFC 8555 §6): HTTPS through the outbound guard, the directory,
/// nonces (a small pool fed by every Replay-Nonce, newNonce when empty), JWS-signed POSTs with
/// the account key (jwk before the account exists, kid after), one retry per badNonce
/// (§6.5: the error carries a fresh nonce), problem documents turned into issuer errors, and
/// Retry-After read for rate limits (§6.6) and polling. A badNonce is retried up to five times
/// per request (the error carries a fresh nonce); still failing, it is `unavailable`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/issuers/issuer.hpp"
#include "events/json.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::acme {

/// "https://host[:port]/path" split for the outbound client; only https is accepted (§6.1).
struct https_url {
  std::string host;
  int port = 443;
  std::string path = "/";
};
certctl::result<https_url, std::string> parse_https_url(const std::string& url);

struct acme_response {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-case

  std::string header(const std::string& lower_name) const;
  std::string location() const { return header("location"); }
  /// The body as a JSON object ({} when it is not one).
  events::json_object json() const;
  /// Seconds from a Retry-After header (delta-seconds form only); 0 when absent.
  std::int64_t retry_after_seconds() const;
};

/// The directory's URLs (§7.1.1); renewal_info empty when the CA offers no ARI.
struct acme_directory {
  std::string new_nonce, new_account, new_order, revoke_cert, renewal_info;
  bool eab_required = false;
  std::vector<std::string> profiles;  ///< meta.profiles names
};

/// Turns a response of status >= 400 into an issuer error: rate limits and server errors are
/// `unavailable` (the job retries per its policy), the rest `invalid_request`. The text names
/// the ACME problem type and detail, never request bodies.
issuer_error problem_error(const std::string& what, const acme_response& r);

class acme_transport {
 public:
  struct settings {
    const net::outbound_guard* guard = nullptr;  ///< not owned; required
    crypto::https_options tls;                   ///< ca_bundle for a private ACME CA
    net::outbound_limits limits;
  };

  explicit acme_transport(settings s);

  certctl::result<acme_response, issuer_error> get(const std::string& url) const;
  certctl::result<acme_response, issuer_error> post(const std::string& url,
                                                    const std::string& content_type,
                                                    const std::string& body) const;

  /// Fetches the directory once; later calls answer from memory.
  certctl::result<acme_directory, issuer_error> directory(const std::string& url);

  /// A JWS POST (`payload` "" for POST-as-GET) signed by `signer`: with `kid` (the account URL)
  /// or, when it is empty, with the embedded public key. Retries once per badNonce, at most
  /// five times in all.
  certctl::result<acme_response, issuer_error> signed_post(const crypto::jws_signer& signer,
                                                           const std::string& kid,
                                                           const std::string& url,
                                                           const std::string& payload);

 private:
  certctl::result<std::string, issuer_error> take_nonce();
  void keep_nonce(const acme_response& r);

  settings settings_;
  std::mutex mu_;
  std::optional<acme_directory> directory_;  ///< guarded by mu_
  std::vector<std::string> nonces_;          ///< guarded by mu_
};

}  // namespace certctl::connectors::acme
