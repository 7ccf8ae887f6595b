#pragma once
/// JSON Web Keys (RFC 7517/7518) for ACME account keys: parsing a public JWK into a key we can
/// verify with, the RFC 7638 thumbprint that identifies an account key, and the reverse
/// direction (a private key's public JWK) for clients and tests. Also the base64url and
/// base64 codecs JOSE needs. No OpenSSL type crosses this header.

#include <optional>
#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// base64url without padding (RFC 4648 §5, as JOSE uses it).
std::string base64url_encode(std::string_view data);
inline std::string base64url_encode(const bytes& data) {
  return base64url_encode(
      std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

/// Strict decoding: only the url-safe alphabet, no padding, no whitespace, and the unused low
/// bits of the last character must be zero, so every value has exactly one encoding (a
/// replayed JWS cannot be disguised by re-encoding it). nullopt on any violation.
std::optional<std::string> base64url_decode(std::string_view text);

/// Standard base64 with padding and no line breaks (PEM bodies are wrapped by callers).
std::string base64_encode(std::string_view data);

/// Largest JWK accepted (an RSA 8192 key is about 1.5 KiB as JSON).
inline constexpr size_t max_jwk_json = 8 * 1024;

/// A public key as a JWK. Only what ACME account keys use: RSA (2048..8192 bits), EC P-256 and
/// P-384, and Ed25519 (OKP).
struct jwk {
  std::string kty;  ///< "RSA", "EC" or "OKP"
  std::string crv;  ///< "P-256", "P-384", "Ed25519"; "" for RSA
  int bits = 0;     ///< RSA modulus bits, 256/384 for EC, 256 for Ed25519
  bytes spki_der;   ///< SubjectPublicKeyInfo DER of the same key
  /// The required members in lexicographic order without whitespace (RFC 7638 §3.2); also the
  /// form we store, since it is the key and nothing else.
  std::string canonical_json;
  std::string thumbprint;  ///< base64url(SHA-256(canonical_json))
};

/// Parses a public JWK given as JSON object text. Private members ("d", "p", ...) are refused:
/// a client that sends its private key has a bug we should not paper over.
crypto_result<jwk> parse_jwk(std::string_view json);

/// The public JWK of a private key (any format parse_private_key accepts).
crypto_result<jwk> jwk_of_private_key(std::string_view private_key_pem);

/// The public JWK of a SubjectPublicKeyInfo DER (certificate or CSR keys).
crypto_result<jwk> jwk_of_spki(const bytes& spki_der);

}  // namespace certctl::crypto
