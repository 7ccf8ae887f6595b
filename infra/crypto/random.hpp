#pragma once
/// Cryptographically strong randomness (OpenSSL's DRBG) and the identifiers built from it.

#include <cstdint>
#include <string>
#include <vector>

namespace certctl::crypto {

/// `n` bytes from the CSPRNG. Aborts if the DRBG fails: continuing without entropy is worse.
std::vector<std::uint8_t> random_bytes(size_t n);

/// RFC 4122 version 4 UUID, lower-case, e.g. "1b4e28ba-2fa1-41d2-883f-0016d3cca427".
std::string uuid_v4();

/// `n` random bytes as lower-case hex (2n characters).
std::string random_hex(size_t n);

}  // namespace certctl::crypto
