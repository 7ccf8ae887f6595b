#include "infra/crypto/pkcs12.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {

using detail::ossl_ptr;

crypto_result<bytes> export_pkcs12(const pkcs12_input& input) {
  if (input.password.empty()) return crypto_error{"export PKCS#12: a password is required"};
  auto key = detail::load_private_key(input.private_key_pem, {});
  if (!key) return crypto_error{"export PKCS#12: " + key.error().message};
  auto cert = detail::load_certificate(input.certificate_pem);
  if (!cert) return crypto_error{"export PKCS#12: " + cert.error().message};
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.value().get()), key.value().get()) != 1) {
    detail::clear_errors();
    return crypto_error{"export PKCS#12: the private key does not match the certificate"};
  }

  ossl_ptr<STACK_OF(X509)> chain(sk_X509_new_null());
  if (!chain) return detail::openssl_error("export PKCS#12");
  if (!input.chain_pem.empty()) {
    auto bio = detail::memory_bio(input.chain_pem);
    for (;;) {
      ossl_ptr<X509> c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!c) break;
      if (sk_X509_push(chain.get(), c.get()) == 0) return detail::openssl_error("export PKCS#12");
      c.release();
    }
    detail::clear_errors();  // the loop ends on "no start line"
    if (sk_X509_num(chain.get()) == 0)
      return crypto_error{"export PKCS#12: chain_pem holds no certificate"};
  }

  // nid/iteration arguments of 0 select the library defaults documented in the header.
  const char* name = input.friendly_name.empty() ? nullptr : input.friendly_name.c_str();
  ossl_ptr<PKCS12> p12(PKCS12_create_ex(input.password.c_str(), name, key.value().get(),
                                        cert.value().get(), chain.get(), 0, 0, 0, 0, 0, nullptr,
                                        nullptr));
  if (!p12) return detail::openssl_error("export PKCS#12");
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return detail::openssl_error("export PKCS#12: encode");
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

}  // namespace certctl::crypto
