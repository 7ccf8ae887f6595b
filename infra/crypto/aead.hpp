#pragma once
/// AES-256-GCM authenticated encryption for secrets at rest (CA keys, connector credentials).
///
/// Sealed format: nonce (12 random bytes) || ciphertext || tag (16 bytes). A fresh random nonce
/// per message is safe for far more messages than one master key will ever seal (NIST SP
/// 800-38D allows 2^32 with random nonces).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

inline constexpr size_t aead_key_size = 32;
inline constexpr size_t aead_nonce_size = 12;
inline constexpr size_t aead_tag_size = 16;

using aead_key = std::array<std::uint8_t, aead_key_size>;

/// A key from the CSPRNG.
aead_key generate_aead_key();

/// Encrypts `plaintext`. `associated_data` is authenticated but not stored: pass something
/// that binds the ciphertext to its place (e.g. the key id), so a file swapped for another
/// fails to open.
crypto_result<bytes> aead_seal(const aead_key& key, std::string_view plaintext,
                               std::string_view associated_data = {});

/// Decrypts and authenticates; any change to the sealed bytes, the key or the associated data
/// is an error ("authentication failed"), never garbage plaintext.
crypto_result<std::string> aead_open(const aead_key& key, const bytes& sealed,
                                     std::string_view associated_data = {});

}  // namespace certctl::crypto
