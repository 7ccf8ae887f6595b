#pragma once
/// Detached signatures over arbitrary bytes (the audit chain's signed checkpoints): sign with a
/// private key PEM, verify with a public key PEM an auditor holds. ECDSA signatures are DER
/// (as `openssl dgst -sign` writes them), Ed25519 signatures are the raw 64 bytes.

#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Signs `message` with SHA-256 (ECDSA P-256, RSA), SHA-384/512 (P-384/521) or pure Ed25519.
crypto_result<bytes> sign_detached(std::string_view private_key_pem, std::string_view message);

/// The public half of a private key as "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) PEM.
crypto_result<std::string> public_key_pem_of(std::string_view private_key_pem);

/// SHA-256 of the SubjectPublicKeyInfo DER in `public_key_pem`, lower-case hex: the key's
/// identity as checkpoints name it (equal to public_key_info::sha256_hex).
crypto_result<std::string> public_key_fingerprint(std::string_view public_key_pem);

/// True when `signature` is a valid signature of `message` under `public_key_pem`; false when
/// it does not verify; an error only when the key cannot be parsed.
crypto_result<bool> verify_detached(std::string_view public_key_pem, std::string_view message,
                                    const bytes& signature);

}  // namespace certctl::crypto
