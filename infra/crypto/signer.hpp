#pragma once
/// Certificate issuance: turns a certificate_template into a signed X.509 v3 certificate.
/// The signer holds a CA's parsed key and name; it is immutable after create(), so one signer
/// may sign from several threads at once.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

struct distinguished_name {
  std::string common_name;  ///< at most 64 characters; may be empty when SANs are given
  std::string organization;
  std::string organizational_unit;
};

/// Everything the issued certificate says. Times are whole seconds since the Unix epoch, UTC
/// (X.509 has second precision; callers holding microseconds divide by 1'000'000).
struct certificate_template {
  bytes public_key_der;  ///< subject SubjectPublicKeyInfo DER (csr_info::public_key_der)
  distinguished_name subject;
  subject_alt_names sans;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  /// Big-endian positive serial. Empty: 16 random bytes with the top bit cleared and the next
  /// one set, so every serial is 128 bits long with 126 bits of entropy (CA/B Forum: >= 64).
  bytes serial;
  /// Leaf key usage follows from these: serverAuth/clientAuth -> digitalSignature (+
  /// keyEncipherment for RSA keys only: RFC 5480 forbids it for EC keys); emailProtection ->
  /// digitalSignature + nonRepudiation; codeSigning, timeStamping, OCSPSigning ->
  /// digitalSignature. No EKUs: digitalSignature and no EKU extension.
  std::vector<ext_key_usage> ext_key_usages;
  /// CA certificates get basicConstraints CA:TRUE (critical) and keyCertSign + cRLSign +
  /// digitalSignature (the last so the CA may sign OCSP responses itself).
  bool is_ca = false;
  int path_len = -1;                       ///< CA only; -1 leaves the path length unconstrained
  std::vector<std::string> permitted_dns;  ///< CA only: name constraints, e.g. ".example.com"
  std::vector<std::string> excluded_dns;
  std::string crl_url;         ///< CRL distribution point; "" for none
  std::string ocsp_url;        ///< AIA OCSP; "" for none
  std::string ca_issuers_url;  ///< AIA caIssuers; "" for none
  /// RFC 7633 TLS Feature status_request ("OCSP must-staple"): TLS servers must staple an OCSP
  /// response. Leaves only; meaningless (and so refused by callers) without an OCSP URL.
  bool must_staple = false;
};

/// Checks names the way sign() will (DNS syntax, IP parse, email and URI shape), so callers can
/// tell a bad request from a signing failure.
crypto_result<done> validate_names(const subject_alt_names& sans);

/// 16 random bytes as described at certificate_template::serial.
bytes random_serial();

/// A certificate as sign_certificate made it, with the facts callers would otherwise parse back
/// out of it (parse_certificate costs ~100 µs; these are known while signing).
struct signed_certificate {
  std::string pem;
  bytes der;
  std::string serial_hex;              ///< as certificate_info::serial_hex
  std::int64_t not_before = 0;         ///< seconds since the Unix epoch, UTC
  std::int64_t not_after = 0;          ///< seconds since the Unix epoch, UTC
  std::string fingerprint_sha256_hex;  ///< SHA-256 of `der`, lower-case hex
};

class certificate_signer {
 public:
  /// Parses the CA certificate (first PEM block) and key; refuses a certificate that is not a
  /// CA (see check_ca_certificate) or a key that does not match it.
  static crypto_result<certificate_signer> create(std::string_view ca_cert_pem,
                                                  std::string_view ca_key_pem,
                                                  std::string_view passphrase = {});

  certificate_signer(certificate_signer&&) noexcept;
  certificate_signer& operator=(certificate_signer&&) noexcept;
  ~certificate_signer();

  /// Issues a certificate for `t`, signed with SHA-256 (SHA-384 for a P-384 CA key, SHA-512 for
  /// P-521, pure Ed25519). Returns PEM. Does not cap validity: that is the caller's policy.
  crypto_result<std::string> sign(const certificate_template& t) const;

  /// The same, with the serial, validity and fingerprint of what was signed.
  crypto_result<signed_certificate> sign_certificate(const certificate_template& t) const;

  std::int64_t ca_not_after() const;   ///< seconds since the epoch
  std::int64_t ca_not_before() const;  ///< seconds since the epoch

 private:
  struct impl;
  explicit certificate_signer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// A self-signed certificate (a root CA when t.is_ca) for `key_pem`; t.public_key_der is
/// ignored, the key's own public half is certified.
crypto_result<std::string> self_sign(std::string_view key_pem, const certificate_template& t);

}  // namespace certctl::crypto
