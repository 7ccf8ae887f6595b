#pragma once
/// Plain value types shared by the CSR, certificate and signer APIs. Standard types only, so
/// headers outside infra/crypto can use them without seeing OpenSSL.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace certctl::crypto {

/// DER encodings and other binary blobs.
using bytes = std::vector<std::uint8_t>;

/// Subject alternative names by kind. IP addresses are in text form ("10.0.0.1", "::1").
struct subject_alt_names {
  std::vector<std::string> dns;
  std::vector<std::string> ip;
  std::vector<std::string> email;
  std::vector<std::string> uri;

  bool empty() const { return dns.empty() && ip.empty() && email.empty() && uri.empty(); }
};

/// The extended key usages a certificate can be issued for.
enum class ext_key_usage {
  server_auth,
  client_auth,
  email_protection,
  code_signing,
  time_stamping,
  ocsp_signing,
};

/// RFC 5280 short names: "serverAuth", "clientAuth", "emailProtection", "codeSigning",
/// "timeStamping", "OCSPSigning".
std::string_view to_string(ext_key_usage u);
std::optional<ext_key_usage> parse_ext_key_usage(std::string_view name);

/// What a public key is, independent of where it came from (CSR, certificate, private key).
struct public_key_info {
  std::string algorithm;   ///< "ECDSA", "RSA" or "Ed25519"
  int bits = 0;            ///< 256/384/521 for ECDSA, modulus bits for RSA, 256 for Ed25519
  std::string curve;       ///< "P-256", "P-384", "P-521"; other curves by OpenSSL name; else ""
  bytes spki_der;          ///< SubjectPublicKeyInfo DER
  std::string sha256_hex;  ///< SHA-256 of spki_der, lower-case hex (a stable key identity)
};

}  // namespace certctl::crypto
