#pragma once
/// The issuer interface (DESIGN §11): something that turns a CSR into a signed certificate.
/// Implementations are registered by type name with a config schema and a factory
/// (connectors/registry.hpp; "GenericCA" for the built-in local CA).
///
/// Operations: issue, renew, revoke, order status (asynchronous CAs), CA chain, and a
/// side-effect-free self test; capabilities() says which of them the CA really offers, and the
/// defaults below answer `unsupported` (or, for renew, issue again) for the rest.
///
/// Every call is synchronous and may block (network CAs): callers run it on worker threads,
/// never inside an actor's message handler. Implementations must allow concurrent calls.
/// The issuer only signs what it is asked to sign; deciding *what* to ask (names, profile,
/// validity) belongs to the caller, except for the limits the request itself carries.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::connectors {

enum class issuer_errc {
  invalid_request,   ///< the request contradicts itself or names something malformed
  bad_csr,           ///< the CSR does not parse or its signature does not verify
  policy_violation,  ///< key algorithm/size or validity outside what the request allows
  unavailable,       ///< the CA cannot issue right now (expired, unreachable, ...)
  internal,          ///< a bug or a library failure
  unsupported,       ///< the CA does not offer this operation (see issuer_capabilities)
};

std::string_view to_string(issuer_errc c);

struct issuer_error {
  issuer_errc code = issuer_errc::internal;
  std::string message;  ///< readable, safe to show to the API caller
};

/// Times are microseconds since the Unix epoch, UTC, like every timestamp in events/.
struct issuance_request {
  std::string csr_pem;
  /// Subject CN. Empty: the CSR's CN, else the first DNS name. At most 64 characters.
  std::string common_name;
  /// Names to certify. Empty: the CSR's subjectAltNames. The caller (not the CA) decides
  /// whether the CSR's names are acceptable. A serverAuth certificate that would end up with
  /// no SAN at all gets its CN as DNS SAN, since TLS clients only match SANs.
  crypto::subject_alt_names sans;
  std::string organization;
  std::string organizational_unit;
  /// Empty: serverAuth. Key usage follows from these (see crypto::certificate_template).
  std::vector<crypto::ext_key_usage> ekus;
  std::int64_t not_before_us = 0;  ///< 0: now (issuer's clock)
  std::int64_t ttl_us = 0;         ///< requested lifetime; 0: max_ttl_us
  std::int64_t max_ttl_us = 0;     ///< profile cap; 0: the issuer's default cap
  /// Accepted CSR key algorithms: "ECDSA", "RSA", "Ed25519". Empty: all three.
  std::vector<std::string> allowed_key_algorithms;
  int min_rsa_bits = 2048;  ///< never below 2048 whatever is asked
  /// OCSP must-staple (RFC 7633) where the CA can: only certificates it serves OCSP for.
  bool must_staple = false;
};

struct issued_certificate {
  std::string cert_pem;
  std::string chain_pem;   ///< issuer chain, leaf excluded, issuing CA first
  std::string serial_hex;  ///< upper-case hex, see crypto::certificate_info::serial_hex
  std::int64_t not_before_us = 0;
  std::int64_t not_after_us = 0;
  std::string fingerprint_sha256_hex;
  /// Asynchronous CAs: the CA's order id. With cert_pem empty the order is still pending and
  /// get_order_status() follows it; synchronous CAs leave it empty.
  std::string order_id;
};

/// What a connector offers beyond issue(). Callers check these before calling, so an
/// `unsupported` answer is a bug on their side, not a routine outcome.
struct issuer_capabilities {
  bool renew = true;            ///< renew() (by default a fresh issue())
  bool revoke = false;          ///< revoke() reaches the CA
  bool async_orders = false;    ///< issue() may answer with a pending order_id
  bool cancel_orders = false;   ///< cancel_order() withdraws a pending order at the CA
  bool crl = false;             ///< this server signs and serves CRLs for the CA
  bool ocsp = false;            ///< this server signs and serves OCSP responses for the CA
  bool static_ca_chain = true;  ///< ca_chain_pem() is fixed (what EST /cacerts serves)
  /// How long an order may stay pending before its job fails (the issuer's own config, e.g.
  /// poll_max_wait_seconds); 0: the server's order policy decides.
  std::int64_t order_timeout_seconds = 0;
};

struct renewal_request : issuance_request {
  std::string previous_serial_hex;  ///< the certificate being replaced
  std::string previous_order_id;    ///< asynchronous CAs that renew by order
};

struct revocation_request {
  std::string serial_hex;
  std::string reason;  ///< RFC 5280 reason name, e.g. "keyCompromise"; "" unspecified
};

enum class order_state { pending, valid, invalid, expired };

std::string_view to_string(order_state s);

struct order_status {
  std::string order_id;
  order_state state = order_state::pending;
  std::string message;
  issued_certificate certificate;  ///< filled when state is valid
  std::int64_t updated_at_us = 0;
  /// While pending, what the order waits for, shown on the job as order_ca_state:
  /// "pending_approval" (a person at the CA or in its portal must approve), "processing"
  /// (validation or issuance under way), "rate_limited" (the CA asked us to come back later).
  std::string ca_state;
  /// The earliest time (us since the epoch) the CA wants to be asked again (Retry-After); the
  /// next poll is never sooner. 0: no wish.
  std::int64_t retry_after_us = 0;
};

/// When the CA suggests renewing a certificate (ACME Renewal Information, RFC 9773 §4.2):
/// renew at a time inside [start, end], microseconds since the epoch.
struct renewal_window {
  std::int64_t start_us = 0;
  std::int64_t end_us = 0;
  std::string explanation_url;
};

/// The outcome of a self test: readable, safe to show to the API caller.
struct issuer_test_report {
  std::string message;
  std::int64_t ca_not_after_us = 0;  ///< 0 when the CA does not say
};

class issuer {
 public:
  virtual ~issuer() = default;

  /// The registry type name, e.g. "GenericCA".
  virtual std::string_view type() const = 0;

  /// The configured issuer id, e.g. "iss-local".
  virtual const std::string& id() const = 0;

  virtual certctl::result<issued_certificate, issuer_error> issue(
      const issuance_request& request) = 0;

  /// PEM of the issuing CA and its parents, issuing CA first.
  virtual std::string ca_chain_pem() const = 0;

  virtual issuer_capabilities capabilities() const { return {}; }

  /// A CA that renews by issuing anew (most) needs nothing more than issue().
  virtual certctl::result<issued_certificate, issuer_error> renew(const renewal_request& request) {
    return issue(request);
  }

  /// Tells the CA a certificate is revoked (only where capabilities().revoke).
  virtual certctl::result<done, issuer_error> revoke(const revocation_request& request);

  /// Follows an asynchronous order (only where capabilities().async_orders).
  virtual certctl::result<order_status, issuer_error> get_order_status(const std::string& order_id);

  /// Withdraws a still-pending order at the CA (only where capabilities().cancel_orders), so
  /// a cancelled job leaves nothing the CA would later issue or bill.
  virtual certctl::result<done, issuer_error> cancel_order(const std::string& order_id);

  /// The CA's suggested renewal window for `cert_pem` (leaf first); nullopt when the CA has no
  /// opinion (no ARI, not enabled, unknown certificate): the renewal policy's thresholds apply.
  virtual certctl::result<std::optional<renewal_window>, issuer_error> renewal_window_of(
      const std::string& cert_pem) {
    (void)cert_pem;
    return std::optional<renewal_window>{};
  }

  /// Proves the connector can work now without leaving a trace: nothing issued is kept,
  /// nothing is recorded, no order is placed that a CA would bill. POST /issuers/{id}/test.
  virtual certctl::result<issuer_test_report, issuer_error> self_test();
};

}  // namespace certctl::connectors
