#include "infra/crypto/detached_signature.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// Public keys are a few hundred bytes; anything far larger is not one.
constexpr size_t max_public_key_pem = 16 * 1024;

crypto_result<ossl_ptr<EVP_PKEY>> load_public_pem(std::string_view pem) {
  if (auto ok = detail::check_size(pem, max_public_key_pem, "public key"); !ok) return ok.error();
  auto bio = detail::memory_bio(pem);
  ossl_ptr<EVP_PKEY> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return detail::openssl_error("parse public key PEM");
  return key;
}

crypto_result<bytes> spki_der(EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  if (len <= 0) return detail::openssl_error("encode public key");
  bytes der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  if (i2d_PUBKEY(key, &p) != len) return detail::openssl_error("encode public key");
  return der;
}

}  // namespace

crypto_result<bytes> sign_detached(std::string_view private_key_pem, std::string_view message) {
  auto key = detail::load_private_key(private_key_pem, {});
  if (!key) return key.error();
  md_ctx_ptr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const auto* tbs = reinterpret_cast<const unsigned char*>(message.data());
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, detail::signing_digest(key->get()), nullptr,
                         key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, tbs, message.size()) != 1)
    return detail::openssl_error("sign");
  bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, tbs, message.size()) != 1)
    return detail::openssl_error("sign");
  sig.resize(len);
  return sig;
}

crypto_result<std::string> public_key_pem_of(std::string_view private_key_pem) {
  auto key = detail::load_private_key(private_key_pem, {});
  if (!key) return key.error();
  auto der = spki_der(key->get());
  if (!der) return der.error();
  return detail::pem_encode("PUBLIC KEY", der->data(), der->size());
}

crypto_result<std::string> public_key_fingerprint(std::string_view public_key_pem) {
  auto key = load_public_pem(public_key_pem);
  if (!key) return key.error();
  auto der = spki_der(key->get());
  if (!der) return der.error();
  sha256 h;
  h.update(std::string_view(reinterpret_cast<const char*>(der->data()), der->size()));
  return to_hex(h.finish());
}

crypto_result<bool> verify_detached(std::string_view public_key_pem, std::string_view message,
                                    const bytes& signature) {
  auto key = load_public_pem(public_key_pem);
  if (!key) return key.error();
  md_ctx_ptr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, detail::signing_digest(key->get()), nullptr,
                                   key->get()) != 1)
    return detail::openssl_error("verify signature");
  const bool ok =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  // A failed verification leaves errors queued; they must not leak into the next operation.
  detail::clear_errors();
  return ok;
}

}  // namespace certctl::crypto
