#pragma once
/// Compact JWS tokens (RFC 7515 §7.1, the JWT form of RFC 7519) and the private JWK forms a
/// step-ca JWK provisioner key comes in: plain (RFC 7517 with "d") or encrypted as a compact
/// JWE with PBES2-HS256+A128KW and A128GCM (RFC 7518 §4.8, §5.3), which is what `step crypto
/// jwk create` and `step ca provisioner add` write. No OpenSSL type crosses this header.

#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/jwk.hpp"

namespace certctl::crypto {

/// Largest token accepted by verify_compact_jws, and largest JWE by decrypt_pbes2_jwe.
inline constexpr size_t max_compact_token = 16 * 1024;

/// Signs `payload` as "<b64 header>.<b64 payload>.<b64 signature>" with the protected header
/// {"alg":<from the key: ES256/ES384/RS256/EdDSA>,"kid":kid,"typ":"JWT"} ("kid" omitted when
/// empty).
crypto_result<std::string> sign_compact_jws(std::string_view private_key_pem, std::string_view kid,
                                            std::string_view payload);

struct compact_jws {
  std::string header_json;   ///< decoded protected header
  std::string payload_json;  ///< decoded payload
};

/// Checks a compact JWS against `key` (alg must suit the key) and returns its decoded parts.
crypto_result<compact_jws> verify_compact_jws(std::string_view token, const jwk& key);

/// A private JWK (EC P-256/P-384 with d, x, y; OKP Ed25519 with d, x) as PKCS#8 PEM.
crypto_result<std::string> private_key_pem_of_jwk(std::string_view jwk_json);

/// The plaintext of a compact JWE encrypted with PBES2-HS256+A128KW / A128GCM under
/// `password` (the header's p2s salt and p2c iterations, at most 1,000,000, are used).
crypto_result<std::string> decrypt_pbes2_jwe(std::string_view jwe, std::string_view password);

/// The reverse, for tests that need a key as step-ca stores it: `iterations` PBKDF2 rounds.
crypto_result<std::string> encrypt_pbes2_jwe(std::string_view plaintext, std::string_view password,
                                             int iterations = 10000);

}  // namespace certctl::crypto
