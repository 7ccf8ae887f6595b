#pragma once
/// PKCS#10 certificate signing requests: built for server-side key generation, parsed (and
/// signature-checked) when they arrive from clients. CSRs are untrusted input: size-limited, and
/// every failure comes back as a crypto_error with a readable message.

#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest CSR accepted, PEM or DER. Real CSRs are 0.5-3 KiB; the limit bounds parser work.
inline constexpr size_t max_csr_size = 64 * 1024;

/// What a CSR asks for. Only returned for CSRs whose self-signature verifies.
struct csr_info {
  std::string subject_dn;   ///< RFC 2253, e.g. "CN=example.com"
  std::string common_name;  ///< "" when the subject has no CN
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  ///< text form: "192.0.2.1", "2001:db8::1"
  std::vector<std::string> emails;
  std::vector<std::string> uris;
  std::string key_algorithm;  ///< "ECDSA", "RSA" or "Ed25519"
  int key_bits = 0;           ///< 256/384/521 for ECDSA, modulus bits for RSA, 256 for Ed25519
  std::string key_curve;      ///< "P-256", "P-384", "P-521" (or OpenSSL's name); "" if not EC
  bytes public_key_der;       ///< SubjectPublicKeyInfo DER, what the signer certifies
  std::string public_key_sha256_hex;

  subject_alt_names sans() const { return {dns_names, ip_addresses, emails, uris}; }
};

/// Input for build_csr.
struct csr_request {
  std::string private_key_pem;  ///< any format parse_private_key accepts
  std::string common_name;      ///< may be empty when `sans` is not
  subject_alt_names sans;
};

/// Builds and signs a CSR (SHA-256/384 by key, Ed25519 pure); returns PEM.
crypto_result<std::string> build_csr(const csr_request& request);

struct key_and_csr {
  private_key key;
  std::string csr_pem;
  /// What parse_csr(csr_pem) would return, known without parsing it back: the CSR was just
  /// built from these values (saves ~150 µs of decoding per server-generated key).
  csr_info csr;
};

/// Server-side key generation: a fresh key and a CSR signed by it, without the PEM round trip
/// build_csr would cost (decoding a private key is the slowest step in OpenSSL 3).
crypto_result<key_and_csr> generate_key_and_csr(key_type type, const std::string& common_name,
                                                const subject_alt_names& sans);

/// Parses a PEM CSR ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") and verifies its
/// signature with the public key it carries.
crypto_result<csr_info> parse_csr(std::string_view pem);

/// The same for DER (ACME sends CSRs as base64url DER).
crypto_result<csr_info> parse_csr_der(const bytes& der);

}  // namespace certctl::crypto
