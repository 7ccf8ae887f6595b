#pragma once
/// The ACME issuer (type "ACME"): an RFC 8555 client against any ACME CA (Let's Encrypt,
/// ZeroSSL, pebble, step-ca's ACME, this server's own ACME endpoint).
///
///   issue():  account (key "acme-account-<issuer id>" in the key store; created on first use,
///             with EAB when configured) -> newOrder (identifiers, profile) -> per authorization:
///             present the challenge (HTTP-01 responder | webroot | DNS-01 | DNS-PERSIST-01
///             hook) and answer it -> pending order (order URL as order_id)
///   get_order_status(): order pending -> (re)present unanswered challenges, wait
///                       ready   -> finalize with the CSR kept for that order
///                       processing -> wait; valid -> download the chain; invalid -> why
///   revoke(): the stored certificate (looked up by serial) to revokeCert, signed by the account
///   renewal_window(): ARI (RFC 9773) suggested window, when the CA offers renewalInfo
///
/// Every call goes out through the outbound guard and https_client (ca_bundle for a private
/// CA). The state a pending order needs beyond the CA's own (the CSR to finalize with) is in
/// the key store, so orders survive a restart; challenge answers are recomputed from the
/// account key.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "connectors/issuers/acme/acme_transport.hpp"
#include "connectors/issuers/issuer.hpp"

namespace certctl::crypto {
class key_store;
}

namespace certctl::connectors::acme {

struct acme_config {
  std::string directory_url;
  std::string email;
  std::string eab_kid;
  std::string eab_hmac;       ///< base64url HMAC key; secret
  std::string eab_fetch_url;  ///< ZeroSSL-style: POST email=<email> here for EAB credentials
  std::string challenge_type = "http-01";  ///< http-01 | dns-01 | dns-persist-01
  std::string http_address = "127.0.0.1";  ///< built-in HTTP-01 responder
  int http_port = 80;
  std::string webroot;  ///< set: HTTP-01 files go there instead of the responder
  std::string dns_present_script;
  std::string dns_cleanup_script;
  std::string dns_persist_issuer_domain;
  int dns_propagation_wait = 0;  ///< seconds between presenting and answering
  std::string profile;           ///< ACME profile for newOrder; "" = the CA's default
  std::string ca_bundle;         ///< PEM roots of a private ACME CA; "" = system store
  bool ari_enabled = false;
  int hook_timeout_seconds = 120;
};

/// What the server lends the connector. Pointers are not owned and outlive it.
struct acme_environment {
  crypto::key_store* keys = nullptr;
  const net::outbound_guard* guard = nullptr;
  /// PEM chain of the stored certificate with this serial (hex); nullopt when unknown.
  std::function<std::optional<std::string>(const std::string& serial_hex)> certificate_by_serial;
};

class acme_issuer final : public issuer {
 public:
  acme_issuer(std::string id, acme_config config, acme_environment env);

  std::string_view type() const override { return "ACME"; }
  const std::string& id() const override { return id_; }
  issuer_capabilities capabilities() const override;
  std::string ca_chain_pem() const override { return {}; }  // ACME has no fixed chain

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& req) override;
  certctl::result<order_status, issuer_error> get_order_status(
      const std::string& order_id) override;
  certctl::result<done, issuer_error> revoke(const revocation_request& req) override;
  certctl::result<issuer_test_report, issuer_error> self_test() override;

  /// The CA's suggested renewal window for `cert_pem` (leaf first); nullopt when ARI is off,
  /// the CA offers no renewalInfo, or it answers 404 (fall back to the policy thresholds).
  certctl::result<std::optional<renewal_window>, issuer_error> renewal_window_of(
      const std::string& cert_pem) override;

  /// RFC 9773 §4.1 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial).
  static certctl::result<std::string, issuer_error> ari_cert_id(const std::string& cert_pem);

 private:
  struct account {
    std::shared_ptr<const crypto::jws_signer> signer;
    std::string url;
  };
  certctl::result<account, issuer_error> ensure_account();
  certctl::result<std::string, issuer_error> eab_binding(const account& a,
                                                         const std::string& new_account_url);
  /// Presents and (when `answer`) answers our challenge of one authorization; done when the
  /// authorization needs nothing more from us.
  certctl::result<done, issuer_error> work_authorization(const account& a,
                                                         const std::string& authz_url,
                                                         bool answer_pending_only);
  void cleanup_authorization(const account& a, const std::string& authz_url);
  certctl::result<issued_certificate, issuer_error> download(const account& a,
                                                             const std::string& cert_url);
  std::string order_key(const std::string& order_url) const;
  certctl::result<acme_response, issuer_error> post_as_get(const account& a,
                                                           const std::string& url);

  std::string id_;
  acme_config config_;
  acme_environment env_;
  acme_transport transport_;
  std::mutex mu_;
  std::optional<account> account_;  ///< guarded by mu_
  std::set<std::string> cleaned_;   ///< orders whose challenges were cleaned up; guarded by mu_
};

}  // namespace certctl::connectors::acme
