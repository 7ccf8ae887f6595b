#pragma once
/// Revocation signing with a CA's own key: X.509 v2 CRLs (RFC 5280 §5) and the delegated OCSP
/// responder certificates (RFC 6960 §4.2.2.2) that sign OCSP responses for the CA. Plus a CRL
/// parser for tests, fuzzing and diagnostics.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Most entries one CRL may list; more means a bug upstream, not a CRL worth signing.
inline constexpr size_t max_crl_entries = 2'000'000;
/// Largest CRL DER parse_crl accepts.
inline constexpr size_t max_crl_der = 128 * 1024 * 1024;
/// Longest serial accepted in a CRL entry: RFC 5280 §4.1.2.2 allows 20 octets.
inline constexpr size_t max_serial_octets = 20;

/// One revoked certificate. Times are whole seconds since the Unix epoch, UTC.
struct crl_entry {
  /// Hex of the serial's magnitude, either case (certificate_info::serial_hex form).
  std::string serial_hex;
  std::int64_t revoked_at = 0;
  /// RFC 5280 §5.3.1 CRLReason (0-10 but not 7). 0 (unspecified) is written as no reasonCode
  /// extension, which §5.3.1 prefers; parse_crl reports an absent extension as 0.
  int reason_code = 0;
  std::int64_t invalidity_date = 0;  ///< 0 when unknown (no invalidityDate extension)
};

/// What a CRL says. Times are whole seconds since the Unix epoch, UTC.
struct crl_content {
  std::int64_t crl_number = 0;  ///< >= 0; must grow with every CRL of an issuer (§5.2.3)
  std::int64_t this_update = 0;
  std::int64_t next_update = 0;  ///< after this_update
  std::vector<crl_entry> revoked;
};

/// A delegated OCSP responder's key (PKCS#8 PEM) and certificate, as issue_ocsp_responder made
/// them.
struct responder_credentials {
  std::string cert_pem;
  std::string key_pem;
  std::int64_t not_before = 0;  ///< seconds since the Unix epoch
  std::int64_t not_after = 0;
};

/// A CA's certificate and key, parsed once. Immutable after create(), so one instance signs
/// from several threads at once.
class revocation_signer {
 public:
  /// The CA certificate (first PEM block) must be a CA with keyCertSign (cRLSign is checked by
  /// relying parties; CAs made by this project have it) and `ca_key_pem` its key.
  static crypto_result<revocation_signer> create(std::string_view ca_cert_pem,
                                                 std::string_view ca_key_pem,
                                                 std::string_view passphrase = {});
  revocation_signer(revocation_signer&&) noexcept;
  revocation_signer& operator=(revocation_signer&&) noexcept;
  ~revocation_signer();

  /// A DER CRL v2: issuer = the CA's subject, authorityKeyIdentifier, cRLNumber, entries sorted
  /// by serial with reasonCode and invalidityDate where known. Every input is checked (hex
  /// serials of at most 20 octets, reason codes, time order, entry count): the entries come
  /// from events, and a CRL is signed with the CA key, so nothing malformed gets that far.
  crypto_result<bytes> sign_crl(const crl_content& c) const;

  /// A fresh ECDSA P-256 key and its certificate for answering OCSP on the CA's behalf:
  /// extendedKeyUsage id-kp-OCSPSigning, keyUsage digitalSignature, id-pkix-ocsp-nocheck (so
  /// clients do not ask about the responder itself) and validity [not_before, not_after]
  /// capped at the CA's own notAfter.
  crypto_result<responder_credentials> issue_ocsp_responder(std::int64_t not_before,
                                                            std::int64_t not_after) const;

  const std::string& ca_certificate_pem() const;
  std::int64_t ca_not_after() const;

 private:
  struct impl;
  explicit revocation_signer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// A CRL taken apart.
struct crl_info {
  std::string issuer_dn;         ///< RFC 2253
  std::int64_t crl_number = -1;  ///< -1 without a cRLNumber extension (or one beyond int64)
  std::int64_t this_update = 0;
  std::int64_t next_update = 0;      ///< 0 when absent
  std::string authority_key_id_hex;  ///< lower-case hex, "" when absent
  std::vector<crl_entry> revoked;    ///< serial_hex in certificate_info form (upper case)
};

/// Parses a DER CRL (size limited to max_crl_der). With `issuer_cert_pem`, also verifies the
/// CRL's signature with that certificate's key and that the issuer names match.
crypto_result<crl_info> parse_crl(const bytes& der, std::string_view issuer_cert_pem = {});

/// DER CRL -> PEM ("X509 CRL"), as `openssl crl -inform DER` prints it.
std::string crl_der_to_pem(const bytes& der);

}  // namespace certctl::crypto
