#include "infra/crypto/cms_envelope.hpp"

#include <openssl/cms.h>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {
namespace {

struct cms_free {
  void operator()(CMS_ContentInfo* p) const { CMS_ContentInfo_free(p); }
};
using cms_ptr = std::unique_ptr<CMS_ContentInfo, cms_free>;

/// Encrypts `content` for `recipient`; `flags` picks how the recipient is named.
crypto_result<bytes> envelope(std::string_view content, X509* recipient, unsigned int flags,
                              std::string_view what) {
  detail::clear_errors();
  // CMS_PARTIAL: add the recipient with our flags before the content is encrypted.
  cms_ptr cms(CMS_encrypt(nullptr, nullptr, EVP_aes_256_cbc(), CMS_BINARY | CMS_PARTIAL));
  if (!cms) return detail::openssl_error(what);
  if (CMS_add1_recipient_cert(cms.get(), recipient, flags) == nullptr)
    return detail::openssl_error(std::string(what) + ": recipient key");
  auto in = detail::memory_bio(content);
  if (CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1)
    return detail::openssl_error(std::string(what) + ": encrypt");
  unsigned char* der = nullptr;
  const int len = i2d_CMS_ContentInfo(cms.get(), &der);
  if (len <= 0) return detail::openssl_error(std::string(what) + ": encode");
  detail::ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

}  // namespace

crypto_result<bytes> cms_envelope_for_certificate(std::string_view content,
                                                  const bytes& recipient_certificate_der) {
  const unsigned char* p = recipient_certificate_der.data();
  detail::ossl_ptr<X509> cert(
      d2i_X509(nullptr, &p, static_cast<long>(recipient_certificate_der.size())));
  if (!cert) return detail::openssl_error("CMS envelope: recipient certificate");
  return envelope(content, cert.get(), 0, "CMS envelope");
}

crypto_result<bytes> cms_envelope_for_public_key(std::string_view content, const bytes& spki_der) {
  auto key = detail::load_public_key(spki_der);
  if (!key) return crypto_error{"CMS envelope: " + key.error().message};
  // OpenSSL names a recipient only through a certificate, so the key goes into a placeholder
  // certificate that is never sent: only its key and subjectKeyIdentifier are read. OpenSSL
  // caches a certificate's extensions only once it encodes completely, hence the names,
  // validity and a signature by a throwaway key.
  detail::ossl_ptr<X509> holder(X509_new());
  detail::ossl_ptr<X509_NAME> name(X509_NAME_new());
  detail::ossl_ptr<EVP_PKEY> signer = detail::new_key(key_type::ecdsa_p256);
  if (!holder || !name || !signer || X509_set_version(holder.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(holder.get()), 1) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("recipient"), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(holder.get(), name.get()) != 1 ||
      X509_set_issuer_name(holder.get(), name.get()) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(holder.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(holder.get()), 3600) == nullptr ||
      X509_set_pubkey(holder.get(), key.value().get()) != 1)
    return detail::openssl_error("CMS envelope: recipient key");
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(holder.get());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (bits == nullptr || EVP_Digest(bits->data, static_cast<size_t>(bits->length), digest,
                                    &digest_len, detail::sha1_md(), nullptr) != 1)
    return detail::openssl_error("CMS envelope: key identifier");
  detail::ossl_ptr<ASN1_STRING> skid(ASN1_OCTET_STRING_new());
  if (!skid || ASN1_OCTET_STRING_set(skid.get(), digest, static_cast<int>(digest_len)) != 1 ||
      X509_add1_ext_i2d(holder.get(), NID_subject_key_identifier, skid.get(), 0,
                        X509V3_ADD_DEFAULT) != 1)
    return detail::openssl_error("CMS envelope: key identifier");
  if (X509_sign(holder.get(), signer.get(), detail::sha256_md()) <= 0)
    return detail::openssl_error("CMS envelope: recipient placeholder");
  return envelope(content, holder.get(), CMS_USE_KEYID, "CMS envelope");
}

crypto_result<std::string> cms_decrypt(const bytes& der, std::string_view private_key_pem) {
  const std::string_view view(reinterpret_cast<const char*>(der.data()), der.size());
  if (auto s = detail::check_size(view, max_cms_size, "CMS decrypt"); !s) return s.error();
  auto key = detail::load_private_key(private_key_pem, {});
  if (!key) return crypto_error{"CMS decrypt: " + key.error().message};
  detail::clear_errors();
  const unsigned char* p = der.data();
  cms_ptr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) return detail::openssl_error("CMS decrypt: parse");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_enveloped)
    return crypto_error{"CMS decrypt: not an EnvelopedData"};
  detail::ossl_ptr<BIO> sink(BIO_new(BIO_s_mem()));
  if (!sink) return detail::openssl_error("CMS decrypt");
  if (CMS_decrypt(cms.get(), key.value().get(), nullptr, nullptr, sink.get(), CMS_BINARY) != 1)
    return detail::openssl_error("CMS decrypt");
  return detail::bio_contents(sink.get());
}

}  // namespace certctl::crypto
