#pragma once
/// What every issuer that hands the CSR to an external CA (OpenSSL script, step-ca, Vault)
/// needs the same way: the request's key policy checked before the CA sees the CSR, the CA's
/// answer checked before it is believed (the certificate must certify the CSR's key and stay
/// within the request's validity cap), RFC 5280 reasons and serials validated, and an HTTPS
/// client for the CA's API that goes through the outbound guard (infra/net) with a deadline,
/// a response cap and the CA's own trust anchors.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "connectors/issuers/issuer.hpp"
#include "events/json.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/net/outbound_http.hpp"

namespace certctl::connectors::external_ca {

/// The CSR parsed, its signature verified, and its key allowed by the request
/// (allowed_key_algorithms, min_rsa_bits, NIST curves); bad_csr or policy_violation otherwise.
certctl::result<crypto::csr_info, issuer_error> check_csr(const issuance_request& request);

/// Builds the issued certificate from what the CA returned: `cert_pem` (leaf first; more
/// certificates after it are taken as the chain), or `chain_pem` when given. Refuses a leaf that
/// does not certify the CSR's key, and one whose lifetime passes the request's max_ttl_us.
certctl::result<issued_certificate, issuer_error> accept_certificate(
    const crypto::csr_info& csr, const issuance_request& request, const std::string& cert_pem,
    const std::string& chain_pem, const std::string& who);

/// Serial as hex digits only (^[0-9a-fA-F]{1,64}$, optional "0x" dropped; colons as Vault
/// writes them are not accepted here): upper case, or invalid_request.
certctl::result<std::string, issuer_error> normalise_serial(const std::string& serial_hex);

/// An RFC 5280 §5.3.1 reason name ("" means unspecified) and its code; invalid_request for any
/// other text.
certctl::result<std::pair<std::string, int>, issuer_error> check_reason(const std::string& reason);

/// The lifetime to ask the CA for, in seconds: ttl_us (else `default_seconds`), capped by
/// max_ttl_us when set.
std::int64_t requested_lifetime_seconds(const issuance_request& request,
                                        std::int64_t default_seconds);

/// "https://host[:port][/base]" split; invalid_request unless https with a host.
struct https_url {
  std::string host;
  int port = 443;
  std::string base_path;  ///< without a trailing '/'; "" for the root
};
certctl::result<https_url, issuer_error> parse_https_url(const std::string& url,
                                                         const std::string& field);

struct http_options {
  std::vector<net::cidr> allow;  ///< CERTCTL_OUTBOUND_ALLOW_CIDRS
  std::string ca_bundle_path;    ///< the CA's trust anchors; "" = system store
  std::chrono::milliseconds timeout{30000};
  std::size_t max_response_bytes = 1024 * 1024;
  /// mTLS identity (both or neither): PEM certificate and unencrypted key, the key file not
  /// readable by group or others. Loaded once per client and reloaded when a file changes.
  std::string client_cert_path;
  std::string client_key_path;
};

struct http_reply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  events::json_object json;  ///< the body parsed; empty when it is not a JSON object
};

/// One JSON-over-HTTPS client for a CA's API. Transport failures are `unavailable` with a
/// message naming `who` and the failure class (timeout, refused address, TLS failure, ...),
/// never the resolved address or port; an unusable client identity is `invalid_request` and
/// a CA that refuses our client certificate says so. Copies share one TLS context cache.
class https_client {
 public:
  https_client(https_url url, http_options options, std::string who)
      : url_(std::move(url)),
        options_(std::move(options)),
        who_(std::move(who)),
        tls_(std::make_shared<crypto::tls_context_cache>()) {}

  /// `path` is appended to the base path. `body` non-empty is sent as application/json.
  certctl::result<http_reply, issuer_error> call(
      const std::string& method, const std::string& path, const std::string& body = {},
      std::vector<std::pair<std::string, std::string>> headers = {}) const;

  const https_url& url() const { return url_; }

  /// How often the TLS context was (re)built: once, plus once per change of its files.
  int tls_builds() const { return tls_->builds(); }

 private:
  https_url url_;
  http_options options_;
  std::string who_;
  std::shared_ptr<crypto::tls_context_cache> tls_;
};

/// At most `max` characters of `text`, control characters replaced, for error messages that
/// quote a CA's answer.
std::string excerpt(const std::string& text, std::size_t max = 300);

/// The value of response header `name` (lower case), or "" when absent.
std::string header_value(const http_reply& reply, const std::string& name);

/// A CA's HTTP error in our terms, for the commercial CAs' REST APIs: 400/409/422 is
/// policy_violation (the CA rejected the request; not retried), 401/403 invalid_request (our
/// credentials or client certificate; no retry fixes it), 404 invalid_request, 429 unavailable
/// with the Retry-After the CA asked for, anything else unavailable. `words` is the CA's own
/// explanation from its error body ("" = the raw body).
issuer_error http_error(const http_reply& reply, const std::string& who, const std::string& op,
                        const std::string& words);

/// The issued certificate from a finished order's PEM (leaf first, chain after it or in
/// `chain_pem`), for orders followed after issue() returned (the CSR is not at hand then; the
/// key match was the CA's to check and the issuance service records what the CA signed).
certctl::result<issued_certificate, issuer_error> certificate_of_order(const std::string& cert_pem,
                                                                       const std::string& chain_pem,
                                                                       const std::string& who);

/// A configured mTLS identity checked at configuration time (crypto::check_client_identity),
/// so a wrong path, a key readable by others or a mismatched pair fails the config, naming
/// the field.
certctl::result<done, issuer_error> check_client_identity(const std::string& who,
                                                          const std::string& cert_path,
                                                          const std::string& key_path);

/// The object under `key` of `j` (empty when absent or not an object).
events::json_object object_of(const events::json_object& j, const char* key);

}  // namespace certctl::connectors::external_ca
