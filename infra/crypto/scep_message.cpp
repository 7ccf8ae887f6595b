// SCEP pkiMessages (RFC 8894 §3) with OpenSSL's CMS API; certs-only structures with PKCS7.
#include "infra/crypto/scep_message.hpp"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

struct local_free {
  void operator()(CMS_ContentInfo* p) const { CMS_ContentInfo_free(p); }
  void operator()(PKCS7* p) const { PKCS7_free(p); }
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
template <class T>
using local_ptr = std::unique_ptr<T, local_free>;

// RFC 8894 §3.2.1: the SCEP attributes under id-VeriSign pki attributes.
constexpr const char* oid_message_type = "2.16.840.1.113733.1.9.2";
constexpr const char* oid_pki_status = "2.16.840.1.113733.1.9.3";
constexpr const char* oid_fail_info = "2.16.840.1.113733.1.9.4";
constexpr const char* oid_sender_nonce = "2.16.840.1.113733.1.9.5";
constexpr const char* oid_recipient_nonce = "2.16.840.1.113733.1.9.6";
constexpr const char* oid_transaction_id = "2.16.840.1.113733.1.9.7";

local_ptr<ASN1_OBJECT> oid(const char* text) {
  return local_ptr<ASN1_OBJECT>(OBJ_txt2obj(text, 1));
}

std::string to_str(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

/// A signed attribute that must occur once with one value of `type`; nullopt otherwise.
std::optional<std::string> signed_attr(CMS_SignerInfo* si, const char* oid_text, int type) {
  auto o = oid(oid_text);
  if (!o) return std::nullopt;
  if (CMS_signed_get_attr_count(si) <= 0) return std::nullopt;
  const int at = CMS_signed_get_attr_by_OBJ(si, o.get(), -1);
  if (at < 0) return std::nullopt;
  if (CMS_signed_get_attr_by_OBJ(si, o.get(), at) >= 0) return std::nullopt;  // repeated
  X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, at);
  if (attr == nullptr || X509_ATTRIBUTE_count(attr) != 1) return std::nullopt;
  ASN1_TYPE* v = X509_ATTRIBUTE_get0_type(attr, 0);
  if (v == nullptr || v->type != type) return std::nullopt;
  return to_str(v->value.asn1_string);
}

bool add_attr(CMS_SignerInfo* si, const char* oid_text, int type, const std::string& value) {
  auto o = oid(oid_text);
  return o && CMS_signed_add1_attr_by_OBJ(si, o.get(), type, value.data(),
                                          static_cast<int>(value.size())) == 1;
}

template <class T, class F>
crypto_result<bytes> to_der(T* obj, F i2d, const char* what) {
  unsigned char* out = nullptr;
  const int len = i2d(obj, &out);
  if (len <= 0) return detail::openssl_error(what);
  bytes der(out, out + len);
  OPENSSL_free(out);
  return der;
}

crypto_result<local_ptr<CMS_ContentInfo>> read_cms(const bytes& der, const char* what,
                                                   OSSL_LIB_CTX* libctx = nullptr) {
  if (der.size() > max_scep_message_size)
    return crypto_error{std::string(what) + ": input of " + std::to_string(der.size()) +
                        " bytes exceeds the " + std::to_string(max_scep_message_size) +
                        " byte limit"};
  detail::clear_errors();
  const unsigned char* p = der.data();
  // Decoding into an object made in `libctx` makes the CMS operations fetch from it.
  CMS_ContentInfo* into = libctx == nullptr ? nullptr : CMS_ContentInfo_new_ex(libctx, nullptr);
  local_ptr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(into == nullptr ? nullptr : &into, &p, static_cast<long>(der.size())));
  if (!cms) {
    if (into != nullptr) CMS_ContentInfo_free(into);
    return detail::openssl_error(what);
  }
  if (p != der.data() + der.size()) return crypto_error{std::string(what) + ": trailing data"};
  return cms;
}

std::string cert_pem(X509* cert) {
  auto bio = ossl_ptr<BIO>(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return detail::bio_contents(bio.get());
}

/// The encapsulated content of a SignedData, as bytes ("" when absent).
bytes signed_content(CMS_ContentInfo* cms) {
  ASN1_OCTET_STRING** content = CMS_get0_content(cms);
  if (content == nullptr || *content == nullptr) return {};
  const auto* d = ASN1_STRING_get0_data(*content);
  return bytes(d, d + ASN1_STRING_length(*content));
}

/// Verifies the only SignerInfo with the certificate the message carries (no chain check:
/// a first request is signed by a self-signed certificate). Empty string: valid.
std::string verify_signature(CMS_ContentInfo* cms) {
  detail::clear_errors();
  ossl_ptr<X509_STORE> store(X509_STORE_new());
  if (CMS_verify(cms, nullptr, store.get(), nullptr, nullptr,
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1)
    return {};
  return detail::openssl_error("signature").message;
}

crypto_result<CMS_SignerInfo*> only_signer(CMS_ContentInfo* cms, const char* what) {
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
    return crypto_error{std::string(what) + ": not a SignedData"};
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms);
  if (sis == nullptr || sk_CMS_SignerInfo_num(sis) != 1)
    return crypto_error{std::string(what) + ": expected exactly one signer"};
  return sk_CMS_SignerInfo_value(sis, 0);
}

crypto_result<ossl_ptr<STACK_OF(X509)>> cert_stack(const std::vector<std::string>& pems) {
  ossl_ptr<STACK_OF(X509)> stack(sk_X509_new_null());
  if (!stack) return detail::openssl_error("certificate list");
  for (const auto& pem : pems) {
    auto c = detail::load_certificate(pem);
    if (!c) return c.error();
    if (sk_X509_push(stack.get(), c->get()) <= 0) return detail::openssl_error("certificate list");
    c->release();
  }
  return stack;
}

/// A memory BIO over `data`, also when it is empty (BIO_new_mem_buf refuses a null pointer).
ossl_ptr<BIO> content_bio(const bytes& data) {
  if (data.empty()) return ossl_ptr<BIO>(BIO_new(BIO_s_mem()));
  return detail::memory_bio(
      std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

crypto_result<bytes> envelope(const bytes& content, const std::vector<std::string>& recipients) {
  auto rcpts = cert_stack(recipients);
  if (!rcpts) return rcpts.error();
  for (int i = 0; i < sk_X509_num(rcpts->get()); ++i) {
    EVP_PKEY* k = X509_get0_pubkey(sk_X509_value(rcpts->get(), i));
    if (k == nullptr || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
      return crypto_error{"envelope: the recipient's key is not RSA"};
  }
  detail::clear_errors();
  auto in = content_bio(content);
  local_ptr<CMS_ContentInfo> env(
      CMS_encrypt(rcpts->get(), in.get(), EVP_aes_256_cbc(), CMS_BINARY));
  if (!env) return detail::openssl_error("envelope");
  return to_der(env.get(), i2d_CMS_ContentInfo, "envelope");
}

/// SignedData over `content` by `cert`/`key` with the SCEP attributes `attrs` (oid, type, value).
struct attr {
  const char* oid;
  int type;
  std::string value;
};
crypto_result<bytes> sign(const bytes& content, const std::string& cert_pem_text,
                          const std::string& key_pem, const std::vector<attr>& attrs,
                          const char* what) {
  auto cert = detail::load_certificate(cert_pem_text);
  if (!cert) return cert.error();
  auto key = detail::load_private_key(key_pem, "");
  if (!key) return key.error();
  detail::clear_errors();
  local_ptr<CMS_ContentInfo> cms(
      CMS_sign(nullptr, nullptr, nullptr, nullptr, CMS_PARTIAL | CMS_BINARY));
  if (!cms) return detail::openssl_error(what);
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), cert->get(), key->get(), detail::sha256_md(),
                                       CMS_BINARY | CMS_NOSMIMECAP);
  if (si == nullptr) return detail::openssl_error(what);
  for (const auto& a : attrs)
    if (!add_attr(si, a.oid, a.type, a.value)) return detail::openssl_error(what);
  auto in = content_bio(content);
  if (CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) return detail::openssl_error(what);
  return to_der(cms.get(), i2d_CMS_ContentInfo, what);
}

/// A library context with the default and the legacy provider, used only to decrypt client
/// envelopes: many SCEP clients (micromdm's scepclient among them) still encrypt requests with
/// DES-CBC, which OpenSSL 3 keeps in the legacy provider. Our own replies use AES only, and
/// the rest of the process never sees the legacy algorithms.
OSSL_LIB_CTX* legacy_ctx() {
  static OSSL_LIB_CTX* ctx = [] {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c != nullptr) {
      OSSL_PROVIDER_load(c, "default");
      OSSL_PROVIDER_load(c, "legacy");  // absent legacy module: DES requests fail, AES works
    }
    return c;
  }();
  return ctx;
}

std::string random_nonce() {
  std::string n(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(n.data()), static_cast<int>(n.size()));
  return n;
}

}  // namespace

const char* to_string(scep_fail_info f) {
  switch (f) {
    case scep_fail_info::bad_alg:
      return "badAlg";
    case scep_fail_info::bad_message_check:
      return "badMessageCheck";
    case scep_fail_info::bad_request:
      return "badRequest";
    case scep_fail_info::bad_time:
      return "badTime";
    case scep_fail_info::bad_cert_id:
      return "badCertId";
  }
  return "badRequest";
}

crypto_result<scep_pki_message> open_scep_message(const bytes& der) {
  auto cms = read_cms(der, "SCEP message");
  if (!cms) return cms.error();
  auto si = only_signer(cms->get(), "SCEP message");
  if (!si) return si.error();
  scep_pki_message m;
  const auto type = signed_attr(*si, oid_message_type, V_ASN1_PRINTABLESTRING);
  const auto tid = signed_attr(*si, oid_transaction_id, V_ASN1_PRINTABLESTRING);
  const auto nonce = signed_attr(*si, oid_sender_nonce, V_ASN1_OCTET_STRING);
  if (!type || !tid || !nonce)
    return crypto_error{
        "SCEP message: messageType, transactionID and senderNonce must each be signed once"};
  if (type->empty() || type->size() > 3 ||
      type->find_first_not_of("0123456789") != std::string::npos)
    return crypto_error{"SCEP message: messageType is not a number"};
  m.message_type = std::stoi(*type);
  m.transaction_id = *tid;
  m.sender_nonce = *nonce;
  if (m.transaction_id.empty() || m.transaction_id.size() > 256)
    return crypto_error{"SCEP message: transactionID must hold 1 to 256 characters"};
  if (m.sender_nonce.size() != 16)
    return crypto_error{"SCEP message: senderNonce must be 16 bytes"};
  // The signer's certificate, among those the message carries.
  CMS_set1_signers_certs(cms->get(), nullptr, 0);
  detail::clear_errors();
  X509* signer = nullptr;
  X509_ALGOR* dig = nullptr;
  CMS_SignerInfo_get0_algs(*si, nullptr, &signer, &dig, nullptr);
  if (signer == nullptr) return crypto_error{"SCEP message: the signer's certificate is missing"};
  m.signer_cert_pem = cert_pem(signer);
  if (dig != nullptr) {
    const ASN1_OBJECT* alg = nullptr;
    X509_ALGOR_get0(&alg, nullptr, nullptr, dig);
    m.digest_algorithm = OBJ_nid2sn(OBJ_obj2nid(alg));
  }
  m.signature_error = verify_signature(cms->get());
  m.signature_valid = m.signature_error.empty();
  m.envelope_der = signed_content(cms->get());
  return m;
}

crypto_result<bytes> decrypt_scep_envelope(const bytes& envelope_der,
                                           const std::string& ra_cert_pem,
                                           const std::string& ra_key_pem) {
  auto env = read_cms(envelope_der, "SCEP envelope", legacy_ctx());
  if (!env) return env.error();
  if (OBJ_obj2nid(CMS_get0_type(env->get())) != NID_pkcs7_enveloped)
    return crypto_error{"SCEP envelope: not an EnvelopedData"};
  auto cert = detail::load_certificate(ra_cert_pem);
  if (!cert) return cert.error();
  auto key = detail::load_private_key(ra_key_pem, "");
  if (!key) return key.error();
  detail::clear_errors();
  ossl_ptr<BIO> out(BIO_new(BIO_s_mem()));
  if (CMS_decrypt(env->get(), key->get(), cert->get(), nullptr, out.get(), CMS_BINARY) != 1)
    return detail::openssl_error("SCEP envelope: decrypt");
  const std::string plain = detail::bio_contents(out.get());
  return bytes(plain.begin(), plain.end());
}

crypto_result<done> verify_issued_by(const std::string& cert_pem_text,
                                     const std::string& ca_chain_pem, std::int64_t at_unix) {
  auto cert = detail::load_certificate(cert_pem_text);
  if (!cert) return cert.error();
  ossl_ptr<X509_STORE> store(X509_STORE_new());
  auto bio = detail::memory_bio(ca_chain_pem);
  int anchors = 0;
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), ca);
    X509_free(ca);
    ++anchors;
  }
  detail::clear_errors();
  if (anchors == 0) return crypto_error{"verify: no CA certificate"};
  local_ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1)
    return detail::openssl_error("verify");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at_unix));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) == 1) return done{};
  return crypto_error{std::string("verify: ") +
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))};
}

crypto_result<bytes> build_scep_cert_rep(const scep_reply& reply) {
  bytes content;
  if (reply.status == scep_status::success) {
    auto inner = scep_certs_only(reply.issued_pem);
    if (!inner) return inner.error();
    auto env = envelope(*inner, {reply.recipient_cert_pem});
    if (!env) return env.error();
    content = std::move(*env);
  }
  std::vector<attr> attrs = {
      {oid_message_type, V_ASN1_PRINTABLESTRING,
       std::to_string(static_cast<int>(scep_message_type::cert_rep))},
      {oid_pki_status, V_ASN1_PRINTABLESTRING, std::to_string(static_cast<int>(reply.status))},
      {oid_transaction_id, V_ASN1_PRINTABLESTRING, reply.transaction_id},
      {oid_recipient_nonce, V_ASN1_OCTET_STRING, reply.recipient_nonce},
      {oid_sender_nonce, V_ASN1_OCTET_STRING, random_nonce()},
  };
  if (reply.status == scep_status::failure)
    attrs.push_back(
        {oid_fail_info, V_ASN1_PRINTABLESTRING, std::to_string(static_cast<int>(reply.fail_info))});
  return sign(content, reply.ra_cert_pem, reply.ra_key_pem, attrs, "SCEP CertRep");
}

crypto_result<bytes> scep_certs_only(const std::vector<std::string>& certs_pem) {
  if (certs_pem.empty()) return crypto_error{"certs-only: no certificate"};
  detail::clear_errors();
  local_ptr<PKCS7> p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1)
    return detail::openssl_error("certs-only");
  // Degenerate: the data content is absent, not an empty OCTET STRING.
  ASN1_OCTET_STRING_free(p7->d.sign->contents->d.data);
  p7->d.sign->contents->d.data = nullptr;
  for (const auto& pem : certs_pem) {
    auto c = detail::load_certificate(pem);
    if (!c) return c.error();
    if (PKCS7_add_certificate(p7.get(), c->get()) != 1) return detail::openssl_error("certs-only");
  }
  return to_der(p7.get(), i2d_PKCS7, "certs-only");
}

crypto_result<bytes> scep_signed_certs_only(const std::vector<std::string>& certs_pem,
                                            const std::string& ra_cert_pem,
                                            const std::string& ra_key_pem) {
  auto inner = scep_certs_only(certs_pem);
  if (!inner) return inner.error();
  return sign(*inner, ra_cert_pem, ra_key_pem, {}, "GetNextCACert");
}

crypto_result<std::vector<std::string>> scep_parse_certs_only(const bytes& der) {
  if (der.size() > max_scep_message_size) return crypto_error{"certs-only: too large"};
  detail::clear_errors();
  const unsigned char* p = der.data();
  local_ptr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7) return detail::openssl_error("certs-only");
  if (!PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr)
    return crypto_error{"certs-only: not a SignedData"};
  std::vector<std::string> out;
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i)
    out.push_back(cert_pem(sk_X509_value(certs, i)));
  if (out.empty()) return crypto_error{"certs-only: no certificate"};
  return out;
}

crypto_result<bytes> build_scep_request(const scep_request_spec& spec) {
  auto env = envelope(spec.content, spec.recipients_pem);
  if (!env) return env.error();
  return sign(
      *env, spec.signer_cert_pem, spec.signer_key_pem,
      {{oid_message_type, V_ASN1_PRINTABLESTRING, std::to_string(static_cast<int>(spec.type))},
       {oid_transaction_id, V_ASN1_PRINTABLESTRING, spec.transaction_id},
       {oid_sender_nonce, V_ASN1_OCTET_STRING, spec.sender_nonce}},
      "SCEP request");
}

crypto_result<scep_cert_rep> open_scep_cert_rep(const bytes& der, const std::string& cert_pem_text,
                                                const std::string& key_pem) {
  auto cms = read_cms(der, "SCEP CertRep");
  if (!cms) return cms.error();
  auto si = only_signer(cms->get(), "SCEP CertRep");
  if (!si) return si.error();
  scep_cert_rep r;
  const auto status = signed_attr(*si, oid_pki_status, V_ASN1_PRINTABLESTRING);
  const auto fail = signed_attr(*si, oid_fail_info, V_ASN1_PRINTABLESTRING);
  const auto tid = signed_attr(*si, oid_transaction_id, V_ASN1_PRINTABLESTRING);
  const auto nonce = signed_attr(*si, oid_recipient_nonce, V_ASN1_OCTET_STRING);
  if (!status || status->size() != 1 || !tid || !nonce)
    return crypto_error{"SCEP CertRep: pkiStatus, transactionID or recipientNonce missing"};
  r.status = (*status)[0] - '0';
  if (fail && fail->size() == 1) r.fail_info = (*fail)[0] - '0';
  r.transaction_id = *tid;
  r.recipient_nonce = *nonce;
  r.signature_valid = verify_signature(cms->get()).empty();
  if (r.status == static_cast<int>(scep_status::success)) {
    auto plain = decrypt_scep_envelope(signed_content(cms->get()), cert_pem_text, key_pem);
    if (!plain) return plain.error();
    auto certs = scep_parse_certs_only(*plain);
    if (!certs) return certs.error();
    r.certificates_pem = std::move(*certs);
  }
  return r;
}

crypto_result<std::string> self_signed_certificate(const std::string& key_pem,
                                                   const std::string& common_name, int days) {
  auto key = detail::load_private_key(key_pem, "");
  if (!key) return key.error();
  detail::clear_errors();
  ossl_ptr<X509> cert(X509_new());
  ossl_ptr<X509_NAME> name(X509_NAME_new());
  if (!cert || !name || X509_set_version(cert.get(), 2) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days) == nullptr ||
      X509_set_pubkey(cert.get(), key->get()) != 1 ||
      X509_sign(cert.get(), key->get(), detail::sha256_md()) <= 0)
    return detail::openssl_error("self-signed certificate");
  return cert_pem(cert.get());
}

}  // namespace certctl::crypto
