#pragma once
/// Private key generation and parsing. Keys cross this API as PEM text only.

#include <optional>
#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest private key PEM accepted (an RSA 16384 key is about 13 KiB).
inline constexpr size_t max_private_key_pem = 64 * 1024;

enum class key_type { ecdsa_p256, ecdsa_p384, rsa_2048, rsa_3072, rsa_4096, ed25519 };

/// "ECDSA-P256", "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096", "Ed25519".
std::string_view to_string(key_type t);
std::optional<key_type> parse_key_type(std::string_view name);

/// A private key and what its public half is. `pem` is unencrypted PKCS#8
/// ("-----BEGIN PRIVATE KEY-----"): callers that persist it must go through key_store.
struct private_key {
  std::string pem;
  public_key_info public_key;
};

/// A fresh key from OpenSSL's CSPRNG. ECDSA P-256 is the default: small, fast, universally
/// supported.
crypto_result<private_key> generate_key(key_type type = key_type::ecdsa_p256);

/// Parses PKCS#8 (plain or encrypted) or traditional RSA/EC PEM ("BEGIN RSA PRIVATE KEY",
/// "BEGIN EC PRIVATE KEY", optionally DEK-Info encrypted) and re-encodes it as plain PKCS#8.
/// An encrypted key without `passphrase` is an error, never a terminal prompt.
crypto_result<private_key> parse_private_key(std::string_view pem,
                                             std::string_view passphrase = {});

}  // namespace certctl::crypto
