#include "infra/crypto/csr.hpp"

#include <openssl/pem.h>

#include "infra/crypto/detail/csr_der.hpp"
#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {

using detail::ossl_ptr;

namespace {

/// Builds and signs a CSR for `key` (whose description is `pub`); fills `info`, when given,
/// with what parse_csr would read back from it.
crypto_result<std::string> csr_for_key(EVP_PKEY* key, const public_key_info& pub,
                                       const std::string& common_name,
                                       const subject_alt_names& sans, csr_info* info) {
  ossl_ptr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1)  // v1, the only PKCS#10 version
    return detail::openssl_error("build CSR");
  if (!common_name.empty()) {
    X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
    if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8, cn, -1, -1, 0) != 1)
      return detail::openssl_error("build CSR: common name");
  }
  ossl_ptr<GENERAL_NAMES> san_names;
  if (!sans.empty()) {
    auto names = detail::make_general_names(sans);
    if (!names) return crypto_error{"build CSR: " + names.error().message};
    san_names = std::move(names).value();
    ossl_ptr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
    ossl_ptr<X509_EXTENSION> san(X509V3_EXT_i2d(NID_subject_alt_name, 0, san_names.get()));
    if (!exts || !san || sk_X509_EXTENSION_push(exts.get(), san.get()) == 0)
      return detail::openssl_error("build CSR: subject alternative names");
    san.release();  // owned by exts
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1)
      return detail::openssl_error("build CSR: extension request");
  }
  // The key goes in as its SPKI DER: X509_REQ_set_pubkey would encode and decode it again.
  if (auto set = detail::set_spki(X509_REQ_get_X509_PUBKEY(req.get()), pub.spki_der); !set)
    return crypto_error{"build CSR: " + set.error().message};
  if (X509_REQ_sign(req.get(), key, detail::signing_digest(key)) <= 0)
    return detail::openssl_error("build CSR: sign");

  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1)
    return detail::openssl_error("build CSR: encode");
  if (info != nullptr) {
    const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    info->subject_dn = detail::name_to_string(subject);
    info->common_name = detail::name_entry(subject, NID_commonName);
    if (san_names) {
      subject_alt_names collected;  // normalised the way parsing would (e.g. IPv6 text)
      detail::collect_general_names(san_names.get(), collected);
      info->dns_names = std::move(collected.dns);
      info->ip_addresses = std::move(collected.ip);
      info->emails = std::move(collected.email);
      info->uris = std::move(collected.uri);
    }
    info->key_algorithm = pub.algorithm;
    info->key_bits = pub.bits;
    info->key_curve = pub.curve;
    info->public_key_der = pub.spki_der;
    info->public_key_sha256_hex = pub.sha256_hex;
  }
  return detail::bio_contents(bio.get());
}

crypto_result<done> check_names(const std::string& common_name, const subject_alt_names& sans) {
  if (common_name.empty() && sans.empty())
    return crypto_error{"build CSR: needs a common name or at least one subject alternative name"};
  if (common_name.size() > 64)  // RFC 5280 ub-common-name
    return crypto_error{"build CSR: common name longer than 64 characters"};
  return done{};
}

}  // namespace

crypto_result<std::string> build_csr(const csr_request& request) {
  if (auto ok = check_names(request.common_name, request.sans); !ok) return ok.error();
  auto key = detail::load_private_key(request.private_key_pem, {});
  if (!key) return key.error();
  auto pub = detail::describe_key(key.value().get());
  if (!pub) return crypto_error{"build CSR: " + pub.error().message};
  return csr_for_key(key.value().get(), pub.value(), request.common_name, request.sans, nullptr);
}

crypto_result<key_and_csr> generate_key_and_csr(key_type type, const std::string& common_name,
                                                const subject_alt_names& sans) {
  if (auto ok = check_names(common_name, sans); !ok) return ok.error();
  detail::clear_errors();
  auto key = detail::new_key(type);
  if (!key) return detail::openssl_error("generate " + std::string(to_string(type)) + " key");
  auto exported = detail::export_private_key(key.get(), "generate key");
  if (!exported) return exported.error();
  key_and_csr out;
  auto csr = csr_for_key(key.get(), exported.value().public_key, common_name, sans, &out.csr);
  if (!csr) return csr.error();
  out.key = std::move(exported).value();
  out.csr_pem = std::move(csr).value();
  return out;
}

namespace {

crypto_result<csr_info> inspect(X509_REQ* req) {
  ossl_ptr<EVP_PKEY> key(X509_REQ_get_pubkey(req));
  if (!key) return detail::openssl_error("parse CSR: public key");
  const int verified = X509_REQ_verify(req, key.get());
  if (verified != 1) return detail::openssl_error("parse CSR: signature does not verify");
  // The SPKI as the CSR carries it; re-encoding the decoded key would cost the encoder.
  auto described = detail::describe_key(key.get(), X509_REQ_get_X509_PUBKEY(req));
  if (!described) return crypto_error{"parse CSR: " + described.error().message};
  auto& pk = described.value();

  csr_info info;
  info.key_algorithm = pk.algorithm;
  info.key_bits = pk.bits;
  info.key_curve = pk.curve;
  info.public_key_der = std::move(pk.spki_der);
  info.public_key_sha256_hex = std::move(pk.sha256_hex);
  ossl_ptr<STACK_OF(X509_EXTENSION)> exts(X509_REQ_get_extensions(req));
  if (auto named = detail::fill_csr_names(info, X509_REQ_get_subject_name(req), exts.get()); !named)
    return named.error();
  detail::clear_errors();
  return info;
}

}  // namespace

crypto_result<csr_info> parse_csr(std::string_view pem) {
  if (auto s = detail::check_size(pem, max_csr_size, "parse CSR"); !s) return s.error();
  detail::clear_errors();
  auto bio = detail::memory_bio(pem);
  ossl_ptr<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return detail::openssl_error("parse CSR: not a PEM certificate request");
  return inspect(req.get());
}

crypto_result<csr_info> parse_csr_der(const bytes& der) {
  const std::string_view view(reinterpret_cast<const char*>(der.data()), der.size());
  if (auto s = detail::check_size(view, max_csr_size, "parse CSR"); !s) return s.error();
  if (auto direct = detail::parse_ec_csr_der(der.data(), der.size())) return std::move(*direct);
  detail::clear_errors();
  const unsigned char* p = der.data();
  ossl_ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return detail::openssl_error("parse CSR: not a DER certificate request");
  if (p != der.data() + der.size()) return crypto_error{"parse CSR: trailing bytes after the DER"};
  return inspect(req.get());
}

}  // namespace certctl::crypto

namespace certctl::crypto::detail {

crypto_result<done> fill_csr_names(csr_info& info, const X509_NAME* subject,
                                   const STACK_OF(X509_EXTENSION) * exts) {
  info.subject_dn = name_to_string(subject);
  info.common_name = name_entry(subject, NID_commonName);
  if (exts == nullptr) return done{};
  int critical = 0;
  ossl_ptr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, &critical, nullptr)));
  // critical == -2 means the extension occurs twice: ambiguous, so refuse rather than pick.
  if (critical == -2) return crypto_error{"parse CSR: duplicate subjectAltName extension"};
  if (!names && critical >= 0)
    return openssl_error("parse CSR: malformed subjectAltName extension");
  if (names) {
    subject_alt_names sans;
    collect_general_names(names.get(), sans);
    info.dns_names = std::move(sans.dns);
    info.ip_addresses = std::move(sans.ip);
    info.emails = std::move(sans.email);
    info.uris = std::move(sans.uri);
  }
  return done{};
}

}  // namespace certctl::crypto::detail
