#include "infra/crypto/aead.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>

#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::crypto {

using detail::ossl_ptr;

aead_key generate_aead_key() {
  aead_key key{};
  const bytes b = random_bytes(key.size());
  std::copy(b.begin(), b.end(), key.begin());
  return key;
}

namespace {

crypto_result<ossl_ptr<EVP_CIPHER_CTX>> init(const aead_key& key, const std::uint8_t* nonce,
                                             bool encrypt, std::string_view aad) {
  detail::clear_errors();
  ossl_ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  // The default nonce length of GCM in OpenSSL is 12 bytes, the size used here.
  if (!ctx || EVP_CipherInit_ex(ctx.get(), detail::aes_256_gcm_cipher(), nullptr, key.data(), nonce,
                                encrypt ? 1 : 0) != 1)
    return detail::openssl_error("AES-256-GCM init");
  int len = 0;
  if (!aad.empty() &&
      EVP_CipherUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                       static_cast<int>(aad.size())) != 1)
    return detail::openssl_error("AES-256-GCM associated data");
  return ctx;
}

}  // namespace

crypto_result<bytes> aead_seal(const aead_key& key, std::string_view plaintext,
                               std::string_view associated_data) {
  if (plaintext.size() > INT_MAX / 2 || associated_data.size() > INT_MAX / 2)
    return crypto_error{"AES-256-GCM seal: input too large"};
  bytes out(aead_nonce_size + plaintext.size() + aead_tag_size);
  const bytes nonce = random_bytes(aead_nonce_size);
  std::copy(nonce.begin(), nonce.end(), out.begin());
  auto ctx = init(key, out.data(), true, associated_data);
  if (!ctx) return ctx.error();
  int len = 0;
  std::uint8_t* body = out.data() + aead_nonce_size;
  if (EVP_EncryptUpdate(ctx.value().get(), body, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1)
    return detail::openssl_error("AES-256-GCM seal");
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx.value().get(), body + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.value().get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(aead_tag_size),
                          body + plaintext.size()) != 1)
    return detail::openssl_error("AES-256-GCM seal");
  return out;
}

crypto_result<std::string> aead_open(const aead_key& key, const bytes& sealed,
                                     std::string_view associated_data) {
  if (sealed.size() < aead_nonce_size + aead_tag_size)
    return crypto_error{"AES-256-GCM open: sealed data is too short"};
  if (sealed.size() > INT_MAX / 2) return crypto_error{"AES-256-GCM open: input too large"};
  auto ctx = init(key, sealed.data(), false, associated_data);
  if (!ctx) return ctx.error();
  const size_t body_len = sealed.size() - aead_nonce_size - aead_tag_size;
  std::string out(body_len, '\0');
  int len = 0;
  if (body_len > 0 &&
      EVP_DecryptUpdate(ctx.value().get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        sealed.data() + aead_nonce_size, static_cast<int>(body_len)) != 1)
    return detail::openssl_error("AES-256-GCM open");
  // The tag is set before Final, which is where OpenSSL compares it (in constant time).
  std::uint8_t tag[aead_tag_size];
  std::copy(sealed.end() - aead_tag_size, sealed.end(), tag);
  int tail = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx.value().get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(aead_tag_size),
                          tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.value().get(), reinterpret_cast<unsigned char*>(out.data()) + len,
                          &tail) != 1) {
    OPENSSL_cleanse(out.data(), out.size());  // unauthenticated plaintext must not leak out
    detail::clear_errors();
    return crypto_error{"AES-256-GCM open: authentication failed (wrong key or tampered data)"};
  }
  return out;
}

}  // namespace certctl::crypto
