#pragma once
/// SHA-256 over OpenSSL's EVP interface; no OpenSSL type escapes this header.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace certctl::crypto {

using sha256_digest = std::array<std::uint8_t, 32>;

/// Incremental hasher for inputs that arrive in pieces (the hash chain hashes two).
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;

  void update(std::string_view bytes);
  sha256_digest finish();

 private:
  void* ctx_;  // EVP_MD_CTX*
};

sha256_digest sha256_of(std::string_view bytes);

/// HMAC-SHA256 (RFC 2104) of `data` under `key`.
sha256_digest hmac_sha256(std::string_view key, std::string_view data);

/// Lower-case hex of any byte sequence.
std::string to_hex(const std::uint8_t* data, size_t size);
inline std::string to_hex(const sha256_digest& d) {
  return to_hex(d.data(), d.size());
}

}  // namespace certctl::crypto
