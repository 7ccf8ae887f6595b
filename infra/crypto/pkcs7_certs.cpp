#include "infra/crypto/pkcs7_certs.hpp"

#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include <string>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {
namespace {

struct pkcs7_free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};
using pkcs7_ptr = std::unique_ptr<PKCS7, pkcs7_free>;

crypto_result<bytes> encode(std::vector<detail::ossl_ptr<X509>> certs) {
  if (certs.empty()) return crypto_error{"build PKCS#7: no certificate"};
  // Built field by field, as `openssl crl2pkcs7 -nocrl` does: PKCS7_content_new would add an
  // empty eContent, while certs-only leaves the encapsulated content absent (RFC 5652 §5.2).
  pkcs7_ptr p7(PKCS7_new());
  PKCS7_SIGNED* sd = PKCS7_SIGNED_new();
  if (!p7 || !sd) {
    PKCS7_SIGNED_free(sd);
    return detail::openssl_error("build PKCS#7");
  }
  p7->type = OBJ_nid2obj(NID_pkcs7_signed);
  p7->d.sign = sd;
  sd->contents->type = OBJ_nid2obj(NID_pkcs7_data);
  sd->cert = sk_X509_new_null();
  if (sd->cert == nullptr || ASN1_INTEGER_set(sd->version, 1) != 1)
    return detail::openssl_error("build PKCS#7");
  for (auto& c : certs) {
    if (sk_X509_push(sd->cert, c.get()) == 0) return detail::openssl_error("build PKCS#7");
    c.release();
  }
  unsigned char* der = nullptr;
  const int len = i2d_PKCS7(p7.get(), &der);
  if (len <= 0) return detail::openssl_error("build PKCS#7: encode");
  detail::ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

}  // namespace

crypto_result<bytes> pkcs7_certs_only(const std::vector<bytes>& certificates) {
  std::vector<detail::ossl_ptr<X509>> certs;
  for (const auto& d : certificates) {
    const unsigned char* p = d.data();
    detail::ossl_ptr<X509> c(d2i_X509(nullptr, &p, static_cast<long>(d.size())));
    if (!c || p != d.data() + d.size())
      return detail::openssl_error("build PKCS#7: a certificate is not DER");
    certs.push_back(std::move(c));
  }
  return encode(std::move(certs));
}

crypto_result<bytes> pkcs7_certs_only_pem(std::string_view pem) {
  if (auto s = detail::check_size(pem, max_pkcs7_size, "build PKCS#7"); !s) return s.error();
  auto bio = detail::memory_bio(pem);
  std::vector<detail::ossl_ptr<X509>> certs;
  for (;;) {
    detail::ossl_ptr<X509> c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c) break;
    certs.push_back(std::move(c));
  }
  detail::clear_errors();  // the loop ends on "no start line"
  if (certs.empty()) return crypto_error{"build PKCS#7: the PEM text holds no certificate"};
  return encode(std::move(certs));
}

crypto_result<std::vector<bytes>> pkcs7_certificates(const bytes& der) {
  const std::string_view view(reinterpret_cast<const char*>(der.data()), der.size());
  if (auto s = detail::check_size(view, max_pkcs7_size, "parse PKCS#7"); !s) return s.error();
  detail::clear_errors();
  const unsigned char* p = der.data();
  pkcs7_ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7) return detail::openssl_error("parse PKCS#7");
  if (p != der.data() + der.size()) return crypto_error{"parse PKCS#7: trailing bytes"};
  if (!PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr)
    return crypto_error{"parse PKCS#7: not a SignedData"};
  std::vector<bytes> out;
  const STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i)
    out.push_back(detail::certificate_der(sk_X509_value(certs, i)));
  return out;
}

}  // namespace certctl::crypto
