#include "infra/crypto/certificate.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {

using detail::ossl_ptr;

namespace {

std::string octets_hex(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return {};
  return to_hex(ASN1_STRING_get0_data(s), static_cast<size_t>(ASN1_STRING_length(s)));
}

void collect_ekus(X509* cert, std::vector<ext_key_usage>& out) {
  const uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_XKUSAGE) == 0) return;
  const uint32_t xku = X509_get_extended_key_usage(cert);
  if (xku & XKU_SSL_SERVER) out.push_back(ext_key_usage::server_auth);
  if (xku & XKU_SSL_CLIENT) out.push_back(ext_key_usage::client_auth);
  if (xku & XKU_SMIME) out.push_back(ext_key_usage::email_protection);
  if (xku & XKU_CODE_SIGN) out.push_back(ext_key_usage::code_signing);
  if (xku & XKU_TIMESTAMP) out.push_back(ext_key_usage::time_stamping);
  if (xku & XKU_OCSP_SIGN) out.push_back(ext_key_usage::ocsp_signing);
}

void collect_urls(X509* cert, certificate_info& info) {
  ossl_ptr<CRL_DIST_POINTS> dps(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
  for (int i = 0; dps && i < sk_DIST_POINT_num(dps.get()); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(dps.get(), i);
    if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;  // 0: fullName
    subject_alt_names names;
    detail::collect_general_names(dp->distpoint->name.fullname, names);
    for (auto& u : names.uri) info.crl_urls.push_back(std::move(u));
  }
  ossl_ptr<AUTHORITY_INFO_ACCESS> aia(static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr)));
  for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
    const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
    if (ad->location == nullptr || ad->location->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = ad->location->d.uniformResourceIdentifier;
    std::string url(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<size_t>(ASN1_STRING_length(s)));
    const int nid = OBJ_obj2nid(ad->method);
    if (nid == NID_ad_OCSP) info.ocsp_urls.push_back(std::move(url));
    if (nid == NID_ad_ca_issuers) info.ca_issuers_urls.push_back(std::move(url));
  }
}

crypto_result<certificate_info> inspect(X509* cert) {
  certificate_info info;
  info.serial_hex = detail::integer_to_hex(X509_get0_serialNumber(cert));
  info.subject_dn = detail::name_to_string(X509_get_subject_name(cert));
  info.issuer_dn = detail::name_to_string(X509_get_issuer_name(cert));
  info.common_name = detail::name_entry(X509_get_subject_name(cert), NID_commonName);

  auto nb = detail::time_to_epoch(X509_get0_notBefore(cert));
  auto na = detail::time_to_epoch(X509_get0_notAfter(cert));
  if (!nb) return nb.error();
  if (!na) return na.error();
  info.not_before = nb.value();
  info.not_after = na.value();

  const bytes der = detail::certificate_der(cert);
  if (der.empty()) return detail::openssl_error("parse certificate: encode DER");
  info.fingerprint_sha256_hex =
      to_hex(sha256_of(std::string_view(reinterpret_cast<const char*>(der.data()), der.size())));

  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return detail::openssl_error("parse certificate: public key");
  auto pk = detail::describe_key(key, X509_get_X509_PUBKEY(cert));
  if (!pk) return crypto_error{"parse certificate: " + pk.error().message};
  info.key_algorithm = pk.value().algorithm;
  info.key_bits = pk.value().bits;
  info.key_curve = pk.value().curve;
  info.public_key_der = std::move(pk.value().spki_der);
  info.public_key_sha256_hex = std::move(pk.value().sha256_hex);

  // X509_get_extension_flags caches the parsed extensions (under OpenSSL's own lock).
  const uint32_t flags = X509_get_extension_flags(cert);
  info.is_ca = (flags & EXFLAG_BCONS) && (flags & EXFLAG_CA);
  info.path_len = static_cast<int>(X509_get_pathlen(cert));

  ossl_ptr<GENERAL_NAMES> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (sans) detail::collect_general_names(sans.get(), info.sans);
  collect_ekus(cert, info.ext_key_usages);
  collect_urls(cert, info);
  info.subject_key_id_hex = octets_hex(X509_get0_subject_key_id(cert));
  info.authority_key_id_hex = octets_hex(X509_get0_authority_key_id(cert));
  detail::clear_errors();
  return info;
}

}  // namespace

crypto_result<certificate_info> parse_certificate(std::string_view pem) {
  if (auto s = detail::check_size(pem, max_chain_pem, "parse certificate"); !s) return s.error();
  auto cert = detail::load_certificate(pem);
  if (!cert) return cert.error();
  return inspect(cert.value().get());
}

crypto_result<std::vector<std::string>> split_pem_chain(std::string_view pem) {
  if (auto s = detail::check_size(pem, max_chain_pem, "parse certificate chain"); !s)
    return s.error();
  detail::clear_errors();
  auto bio = detail::memory_bio(pem);
  std::vector<std::string> out;
  for (;;) {
    ossl_ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
      const unsigned long e = ERR_peek_last_error();
      // "No start line" after at least one certificate just means the bundle ended.
      if (!out.empty() && ERR_GET_LIB(e) == ERR_LIB_PEM &&
          ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        detail::clear_errors();
        return out;
      }
      return detail::openssl_error("parse certificate chain: certificate " +
                                   std::to_string(out.size() + 1));
    }
    out.push_back(detail::certificate_pem(cert.get()));
  }
}

crypto_result<bytes> certificate_pem_to_der(std::string_view pem) {
  if (auto s = detail::check_size(pem, max_chain_pem, "parse certificate"); !s) return s.error();
  auto cert = detail::load_certificate(pem);
  if (!cert) return cert.error();
  return detail::certificate_der(cert.value().get());
}

crypto_result<std::string> certificate_der_to_pem(const bytes& der) {
  if (der.empty() || der.size() > max_certificate_pem)
    return crypto_error{"parse certificate: DER is empty or larger than the limit"};
  detail::clear_errors();
  const unsigned char* p = der.data();
  ossl_ptr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return detail::openssl_error("parse certificate: not a DER certificate");
  return detail::certificate_pem(cert.get());
}

crypto_result<done> check_ca_certificate(std::string_view cert_pem) {
  if (auto s = detail::check_size(cert_pem, max_chain_pem, "check CA certificate"); !s)
    return s.error();
  auto cert = detail::load_certificate(cert_pem);
  if (!cert) return cert.error();
  X509* x = cert.value().get();
  const uint32_t flags = X509_get_extension_flags(x);
  const std::string subject = detail::name_to_string(X509_get_subject_name(x));
  detail::clear_errors();
  if (flags & EXFLAG_INVALID)
    return crypto_error{"certificate \"" + subject + "\" has malformed or duplicate extensions"};
  if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA))
    return crypto_error{"certificate \"" + subject +
                        "\" is not a CA certificate: basicConstraints CA:TRUE is missing"};
  if (!(flags & EXFLAG_KUSAGE))
    return crypto_error{"CA certificate \"" + subject +
                        "\" has no keyUsage extension; it needs keyUsage keyCertSign (and "
                        "cRLSign to sign CRLs)"};
  if (!(X509_get_key_usage(x) & KU_KEY_CERT_SIGN))
    return crypto_error{"CA certificate \"" + subject + "\" keyUsage lacks keyCertSign"};
  return done{};
}

crypto_result<done> check_key_matches_certificate(std::string_view key_pem,
                                                  std::string_view cert_pem,
                                                  std::string_view passphrase) {
  if (auto s = detail::check_size(key_pem, max_private_key_pem, "parse private key"); !s)
    return s.error();
  auto key = detail::load_private_key(key_pem, passphrase);
  if (!key) return key.error();
  auto cert = detail::load_certificate(cert_pem);
  if (!cert) return cert.error();
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.value().get()), key.value().get()) != 1) {
    detail::clear_errors();
    return crypto_error{"the private key does not match the certificate's public key"};
  }
  return done{};
}

}  // namespace certctl::crypto
