#pragma once
/// The built-in CA ("GenericCA"): signs with a key held by this server.
///
/// Two modes, chosen by configuration:
///   self-signed  no ca_cert_path/ca_key_path: on first start an ECDSA root is generated, its
///                key stored encrypted (AES-256-GCM, master key file) under
///                <data_dir>/issuers/<issuer_id>/, and reloaded on later starts.
///   sub-CA       ca_cert_path + ca_key_path: an operator-provided CA (e.g. an intermediate of
///                the company root). The certificate must be a CA with keyCertSign and the key
///                must match it; the key file stays where the operator put it.
///
/// Issued leaves carry a CRL distribution point and an AIA OCSP URL under pki_base_url:
///   <base>/.well-known/pki/crl/<issuer_id>   <base>/.well-known/pki/ocsp/<issuer_id>
/// except short-lived ones (validity under short_lived_threshold_us): expiry is their
/// revocation, so they name neither and the CRL and OCSP responder leave them out.
///
/// Revocation: sign_crl() signs CRLs with the CA key; OCSP responses are signed by a delegated
/// responder (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) that ocsp_responder() issues with a
/// fresh key and replaces before it expires. The responder key lives in memory only: a restart
/// issues a new one, which costs one signature and keeps the key off the disk.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connectors/issuers/issuer.hpp"
#include "connectors/issuers/local/ocsp_rotator.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/ocsp.hpp"

namespace certctl::connectors {

/// Certificates valid for less than this get no CRL distribution point and no OCSP URL, and
/// revocation status is not kept for them (the reference's "TTL under one hour" rule).
inline constexpr std::int64_t short_lived_threshold_us = 3600LL * 1'000'000;

/// What self tests sign: a name under .invalid (RFC 6761), which no relying party can ever
/// resolve, valid long enough to outlast clock skew and too short to be useful if it leaked.
inline constexpr const char* self_test_host = "issuer-test.invalid";
inline constexpr std::int64_t self_test_ttl_us = 5LL * 60 * 1'000'000;

struct local_ca_config {
  std::string data_dir;           ///< required in self-signed mode
  std::string ca_cert_path;       ///< sub-CA mode: PEM, the CA first, optionally its parents
  std::string ca_key_path;        ///< sub-CA mode: PKCS#8 or traditional RSA/EC PEM
  std::string ca_key_passphrase;  ///< sub-CA mode, when the key file is encrypted
  std::string master_key_path;    ///< "" -> <data_dir>/master.key
  std::string pki_base_url;       ///< e.g. "https://127.0.0.1:8443"; "" -> no CRL DP / OCSP
  std::string ca_issuers_url;     ///< optional AIA caIssuers URL, taken as is
  std::string issuer_id = "iss-local";
  std::string ca_common_name = "certctl Local Root CA";
  std::string ca_organization;
  // P-256: one signature costs ~15 µs against ~530 µs for P-384 in OpenSSL 3.0, and every
  // issued certificate, CRL and OCSP response is signed with this key.
  crypto::key_type ca_key_type = crypto::key_type::ecdsa_p256;
  std::int64_t ca_validity_us = 10LL * 365 * 86400 * 1'000'000;
  std::int64_t default_max_ttl_us = 398LL * 86400 * 1'000'000;  ///< CA/B Forum TLS maximum
  /// Delegated OCSP responder certificates: short-lived because id-pkix-ocsp-nocheck means
  /// nobody can revoke them; replaced once less than renew_before remains.
  std::int64_t ocsp_responder_validity_us = ocsp_rotation{}.validity_us;
  std::int64_t ocsp_responder_renew_before_us = ocsp_rotation{}.renew_before_us;
  const infra::clock* clock = nullptr;  ///< nullptr -> system clock; must outlive the CA
};

/// A key and certificate for this server's own HTTPS listener.
struct server_credentials {
  std::string cert_pem;
  std::string key_pem;  ///< PKCS#8; the caller decides where it lives
  std::string chain_pem;
};

class local_ca final : public issuer {
 public:
  ~local_ca() override;

  std::string_view type() const override { return "GenericCA"; }
  const std::string& id() const override;
  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& request) override;

  /// issue() for a CSR the caller has already parsed, and so verified: `csr` must be what
  /// crypto::parse_csr(request.csr_pem) returns (or key_and_csr::csr for a CSR just built).
  /// Saves parsing the CSR a second time (~150 µs); request.csr_pem is not read.
  certctl::result<issued_certificate, issuer_error> issue_parsed(const issuance_request& request,
                                                                 const crypto::csr_info& csr);
  std::string ca_chain_pem() const override;
  /// CRL and OCSP when pki_base_url is set; revocation is the log's, no CA call.
  issuer_capabilities capabilities() const override;
  /// Signs a throwaway certificate for self_test_host (5 minutes) and drops it.
  certctl::result<issuer_test_report, issuer_error> self_test() override;

  /// The issuing CA certificate alone.
  const std::string& ca_certificate_pem() const;
  bool self_signed() const;
  const std::string& crl_url() const;   ///< "" without pki_base_url
  const std::string& ocsp_url() const;  ///< "" without pki_base_url

  /// A DER CRL signed with the CA key (see crypto::revocation_signer::sign_crl).
  crypto::crypto_result<crypto::bytes> sign_crl(const crypto::crl_content& content) const;

  /// The current delegated OCSP responder, issuing a new one first when there is none or the
  /// current one has less than ocsp_responder_renew_before_us left. Thread-safe; callers keep
  /// the pointer for as long as they sign with it. A caller can tell a rotation by the
  /// pointer changing.
  certctl::result<std::shared_ptr<const crypto::ocsp_signer>, issuer_error> ocsp_responder();

  /// Generates an ECDSA P-256 key and a serverAuth certificate for `hosts` (DNS names or IP
  /// addresses, e.g. {"localhost", "127.0.0.1", "::1"}), for bootstrapping HTTPS.
  /// ttl_us 0 means the default cap.
  certctl::result<server_credentials, issuer_error> issue_server_certificate(
      const std::vector<std::string>& hosts, std::int64_t ttl_us = 0);

  struct state;  // defined in the .cpp
  explicit local_ca(std::unique_ptr<state> s);

 private:
  std::unique_ptr<state> s_;
};

/// Validates the configuration (errors name the offending key or file), then loads or
/// creates the CA. Safe to call once per process per issuer id.
certctl::result<std::unique_ptr<local_ca>, issuer_error> open_local_ca(
    const local_ca_config& config);

}  // namespace certctl::connectors
