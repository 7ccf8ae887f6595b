#include "infra/crypto/keys.hpp"

#include <openssl/pem.h>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {

using detail::ossl_ptr;

std::string_view to_string(key_type t) {
  switch (t) {
    case key_type::ecdsa_p256:
      return "ECDSA-P256";
    case key_type::ecdsa_p384:
      return "ECDSA-P384";
    case key_type::rsa_2048:
      return "RSA-2048";
    case key_type::rsa_3072:
      return "RSA-3072";
    case key_type::rsa_4096:
      return "RSA-4096";
    case key_type::ed25519:
      return "Ed25519";
  }
  return "unknown";
}

std::optional<key_type> parse_key_type(std::string_view name) {
  for (auto t : {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::rsa_3072,
                 key_type::rsa_4096, key_type::ed25519}) {
    if (to_string(t) == name) return t;
  }
  return std::nullopt;
}

namespace detail {

crypto_result<private_key> export_private_key(EVP_PKEY* key, std::string_view what) {
  auto info = detail::describe_key(key);
  if (!info) return info.error();
  // EC keys (every server-generated key by default) skip the encoder: same bytes, ~50 µs less.
  if (auto fast = detail::ec_private_key_pem(key)) {
    if (!fast->ok()) return crypto_error{std::string(what) + ": " + fast->error().message};
    return private_key{std::move(*fast).value(), std::move(info).value()};
  }
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes PKCS#8 in OpenSSL 3, whatever the key's original format.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return detail::openssl_error(std::string(what) + ": encode PKCS#8");
  return private_key{detail::bio_contents(bio.get()), std::move(info).value()};
}

ossl_ptr<EVP_PKEY> new_key(key_type type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case key_type::ecdsa_p256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case key_type::ecdsa_p384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case key_type::rsa_2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case key_type::rsa_3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case key_type::rsa_4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
    case key_type::ed25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  return ossl_ptr<EVP_PKEY>(raw);
}

}  // namespace detail

crypto_result<private_key> generate_key(key_type type) {
  detail::clear_errors();
  auto key = detail::new_key(type);
  if (!key) return detail::openssl_error("generate " + std::string(to_string(type)) + " key");
  return detail::export_private_key(key.get(), "generate key");
}

crypto_result<private_key> parse_private_key(std::string_view pem, std::string_view passphrase) {
  if (auto s = detail::check_size(pem, max_private_key_pem, "parse private key"); !s)
    return s.error();
  auto key = detail::load_private_key(pem, passphrase);
  if (!key) return key.error();
  return detail::export_private_key(key.value().get(), "parse private key");
}

}  // namespace certctl::crypto
