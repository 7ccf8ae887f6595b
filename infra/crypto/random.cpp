#include "infra/crypto/random.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {

std::vector<std::uint8_t> random_bytes(size_t n) {
  std::vector<std::uint8_t> out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    std::fputs("fatal: OpenSSL RAND_bytes failed\n", stderr);
    std::abort();
  }
  return out;
}

std::string uuid_v4() {
  auto b = random_bytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string h = to_hex(b.data(), b.size());
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20, 12);
}

std::string random_hex(size_t n) {
  auto b = random_bytes(n);
  return to_hex(b.data(), b.size());
}

}  // namespace certctl::crypto
