#pragma once
/// X.509 certificate inspection: parse a certificate into plain fields, split PEM chains, and
/// the checks done before trusting a certificate as an issuing CA.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest single certificate PEM accepted, and largest chain.
inline constexpr size_t max_certificate_pem = 64 * 1024;
inline constexpr size_t max_chain_pem = 1024 * 1024;

struct certificate_info {
  /// The serial's big-endian magnitude as upper-case hex, two digits per byte with leading zero
  /// bytes dropped (OpenSSL's BN_bn2hex form, e.g. "0A1B..."; leading "0" nibbles are kept so
  /// the length is always even). A negative serial (non-conforming) gets a "-" prefix.
  std::string serial_hex;
  std::string subject_dn;  ///< RFC 2253, e.g. "CN=example.com,O=Example"
  std::string issuer_dn;
  std::string common_name;
  subject_alt_names sans;
  std::int64_t not_before = 0;         ///< seconds since the Unix epoch, UTC
  std::int64_t not_after = 0;          ///< seconds since the Unix epoch, UTC
  std::string fingerprint_sha256_hex;  ///< SHA-256 of the DER, lower-case hex
  std::string key_algorithm;           ///< "ECDSA", "RSA" or "Ed25519"
  int key_bits = 0;
  std::string key_curve;
  bytes public_key_der;  ///< SubjectPublicKeyInfo DER
  std::string public_key_sha256_hex;
  bool is_ca = false;  ///< basicConstraints CA:TRUE
  int path_len = -1;   ///< basicConstraints pathLenConstraint; -1 when absent
  std::vector<ext_key_usage> ext_key_usages;
  std::vector<std::string> crl_urls;         ///< CRL distribution point URIs
  std::vector<std::string> ocsp_urls;        ///< AIA OCSP URIs
  std::vector<std::string> ca_issuers_urls;  ///< AIA caIssuers URIs
  std::string subject_key_id_hex;            ///< lower-case hex, "" when absent
  std::string authority_key_id_hex;
};

/// Parses the first certificate of a PEM text.
crypto_result<certificate_info> parse_certificate(std::string_view pem);

/// Splits a PEM bundle into one normalised PEM per certificate, in order; text outside the
/// PEM blocks is ignored. An empty bundle or a corrupt block is an error.
crypto_result<std::vector<std::string>> split_pem_chain(std::string_view pem);

/// PEM <-> DER for a single certificate.
crypto_result<bytes> certificate_pem_to_der(std::string_view pem);
crypto_result<std::string> certificate_der_to_pem(const bytes& der);

/// Succeeds when the certificate may issue certificates: basicConstraints CA:TRUE and a
/// keyUsage extension containing keyCertSign. The error says which is missing.
crypto_result<done> check_ca_certificate(std::string_view cert_pem);

/// Succeeds when `key_pem` is the private key for the certificate's public key.
crypto_result<done> check_key_matches_certificate(std::string_view key_pem,
                                                  std::string_view cert_pem,
                                                  std::string_view passphrase = {});

}  // namespace certctl::crypto
