#include "infra/crypto/ocsp.hpp"

#include <openssl/ocsp.h>

#include <array>
#include <cctype>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

constexpr std::array<ocsp_hash, 4> all_hashes = {ocsp_hash::sha1, ocsp_hash::sha256,
                                                 ocsp_hash::sha384, ocsp_hash::sha512};

const EVP_MD* md_of(ocsp_hash h) {
  switch (h) {
    case ocsp_hash::sha1:
      return detail::sha1_md();
    case ocsp_hash::sha256:
      return detail::sha256_md();
    case ocsp_hash::sha384:
      return detail::sha384_md();
    case ocsp_hash::sha512:
      return detail::sha512_md();
  }
  return nullptr;
}

std::optional<ocsp_hash> hash_of_nid(int nid) {
  switch (nid) {
    case NID_sha1:
      return ocsp_hash::sha1;
    case NID_sha256:
      return ocsp_hash::sha256;
    case NID_sha384:
      return ocsp_hash::sha384;
    case NID_sha512:
      return ocsp_hash::sha512;
    default:
      return std::nullopt;
  }
}

size_t digest_size(ocsp_hash h) {
  return static_cast<size_t>(EVP_MD_get_size(md_of(h)));
}

bytes octets(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) return {};
  const unsigned char* d = ASN1_STRING_get0_data(s);
  return bytes(d, d + ASN1_STRING_length(s));
}

/// Hex serial (validated: it reaches us from our own tables, but a CertID is built from it)
/// -> ASN1_INTEGER.
crypto_result<ossl_ptr<ASN1_INTEGER>> serial_of(const std::string& hex) {
  if (hex.empty() || hex.size() > 128) return crypto_error{"OCSP: serial number empty or too long"};
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return crypto_error{"OCSP: serial number is not hex"};
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) return detail::openssl_error("OCSP: serial number");
  ossl_ptr<BIGNUM> bn(raw);
  ossl_ptr<ASN1_INTEGER> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return detail::openssl_error("OCSP: serial number");
  return out;
}

crypto_result<ossl_ptr<ASN1_TIME>> time_of(std::int64_t t) {
  ossl_ptr<ASN1_TIME> out(ASN1_TIME_set(nullptr, static_cast<time_t>(t)));
  if (!out) return detail::openssl_error("OCSP: time");
  return out;
}

ocsp_request_error malformed(std::string message) {
  detail::clear_errors();
  return {ocsp_response_status::malformed_request, std::move(message)};
}

}  // namespace

std::string_view to_string(ocsp_hash h) {
  switch (h) {
    case ocsp_hash::sha1:
      return "SHA-1";
    case ocsp_hash::sha256:
      return "SHA-256";
    case ocsp_hash::sha384:
      return "SHA-384";
    case ocsp_hash::sha512:
      return "SHA-512";
  }
  return "?";
}

certctl::result<ocsp_request, ocsp_request_error> parse_ocsp_request(const std::uint8_t* der,
                                                                     size_t size) {
  if (size == 0) return malformed("empty OCSP request");
  if (size > max_ocsp_request_der)
    return malformed("OCSP request of " + std::to_string(size) + " bytes exceeds the limit of " +
                     std::to_string(max_ocsp_request_der));
  detail::clear_errors();
  const unsigned char* p = der;
  ossl_ptr<OCSP_REQUEST> req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(size)));
  if (!req) return malformed("OCSP request is not DER OCSPRequest");
  if (p != der + size) return malformed("trailing bytes after the OCSP request");
  const int n = OCSP_request_onereq_count(req.get());
  if (n <= 0) return malformed("OCSP request without a CertID");
  if (static_cast<size_t>(n) > max_ocsp_request_ids)
    return malformed("OCSP request with " + std::to_string(n) + " CertIDs (limit " +
                     std::to_string(max_ocsp_request_ids) + ")");
  ocsp_request out;
  for (int i = 0; i < n; ++i) {
    OCSP_CERTID* cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), i));
    ASN1_OCTET_STRING* name_hash = nullptr;
    ASN1_OCTET_STRING* key_hash = nullptr;
    ASN1_OBJECT* alg = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (cid == nullptr || OCSP_id_get0_info(&name_hash, &alg, &key_hash, &serial, cid) != 1 ||
        alg == nullptr || serial == nullptr)
      return malformed("CertID " + std::to_string(i) + " is incomplete");
    const auto hash = hash_of_nid(OBJ_obj2nid(alg));
    if (!hash) {
      char name[80];
      OBJ_obj2txt(name, sizeof name, alg, 0);
      return malformed(std::string("CertID hash algorithm ") + name + " is not supported");
    }
    ocsp_cert_id id{*hash, octets(name_hash), octets(key_hash), detail::integer_to_hex(serial)};
    if (id.issuer_name_hash.size() != digest_size(*hash) ||
        id.issuer_key_hash.size() != digest_size(*hash))
      return malformed("CertID hashes do not have the length of " + std::string(to_string(*hash)));
    out.ids.push_back(std::move(id));
  }
  const int idx = OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (idx >= 0) {
    out.nonce = octets(X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(req.get(), idx)));
    // RFC 8954 §2.1: a responder rejects empty and oversized nonces with malformedRequest.
    if (out.nonce.empty() || out.nonce.size() > max_ocsp_nonce)
      return malformed("nonce of " + std::to_string(out.nonce.size()) + " bytes");
  }
  detail::clear_errors();
  return out;
}

bytes ocsp_error_response(ocsp_response_status status) {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } without the optional body.
  return {0x30, 0x03, 0x0a, 0x01, static_cast<std::uint8_t>(status)};
}

struct ocsp_signer::impl {
  ossl_ptr<X509> issuer;
  ossl_ptr<X509> responder;
  ossl_ptr<EVP_PKEY> key;
  std::string responder_pem;
  std::int64_t responder_not_after = 0;
  /// The issuer's name and key hashes per ocsp_hash, computed once: every request is checked.
  std::array<bytes, all_hashes.size()> name_hash, key_hash;
};

ocsp_signer::ocsp_signer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ocsp_signer::ocsp_signer(ocsp_signer&&) noexcept = default;
ocsp_signer& ocsp_signer::operator=(ocsp_signer&&) noexcept = default;
ocsp_signer::~ocsp_signer() = default;

crypto_result<ocsp_signer> ocsp_signer::create(std::string_view issuer_cert_pem,
                                               std::string_view responder_cert_pem,
                                               std::string_view responder_key_pem) {
  auto p = std::make_unique<impl>();
  auto issuer = detail::load_certificate(issuer_cert_pem);
  if (!issuer) return issuer.error();
  auto responder = detail::load_certificate(responder_cert_pem);
  if (!responder) return responder.error();
  auto key = detail::load_private_key(responder_key_pem, {});
  if (!key) return key.error();
  p->issuer = std::move(issuer).value();
  p->responder = std::move(responder).value();
  p->key = std::move(key).value();
  detail::clear_errors();
  EVP_PKEY* issuer_key = X509_get0_pubkey(p->issuer.get());
  if (X509_check_issued(p->issuer.get(), p->responder.get()) != X509_V_OK ||
      issuer_key == nullptr || X509_verify(p->responder.get(), issuer_key) != 1)
    return detail::openssl_error("OCSP signer: the responder certificate is not the issuer's");
  if (X509_check_private_key(p->responder.get(), p->key.get()) != 1)
    return detail::openssl_error("OCSP signer: the key does not match the responder certificate");
  auto na = detail::time_to_epoch(X509_get0_notAfter(p->responder.get()));
  if (!na) return na.error();
  p->responder_not_after = na.value();
  p->responder_pem = detail::certificate_pem(p->responder.get());
  const ASN1_BIT_STRING* key_bits = X509_get0_pubkey_bitstr(p->issuer.get());
  for (size_t i = 0; i < all_hashes.size(); ++i) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_NAME_digest(X509_get_subject_name(p->issuer.get()), md_of(all_hashes[i]), md, &len) !=
        1)
      return detail::openssl_error("OCSP signer: issuer name hash");
    p->name_hash[i].assign(md, md + len);
    if (key_bits == nullptr || EVP_Digest(key_bits->data, static_cast<size_t>(key_bits->length), md,
                                          &len, md_of(all_hashes[i]), nullptr) != 1)
      return detail::openssl_error("OCSP signer: issuer key hash");
    p->key_hash[i].assign(md, md + len);
  }
  return ocsp_signer(std::move(p));
}

bool ocsp_signer::issuer_matches(const ocsp_cert_id& id) const {
  const auto i = static_cast<size_t>(id.hash);
  return i < all_hashes.size() && id.issuer_name_hash == impl_->name_hash[i] &&
         id.issuer_key_hash == impl_->key_hash[i];
}

ocsp_cert_id ocsp_signer::cert_id(ocsp_hash hash, std::string serial_hex) const {
  const auto i = static_cast<size_t>(hash);
  return {hash, impl_->name_hash[i], impl_->key_hash[i], std::move(serial_hex)};
}

std::int64_t ocsp_signer::responder_not_after() const {
  return impl_->responder_not_after;
}

const std::string& ocsp_signer::responder_certificate_pem() const {
  return impl_->responder_pem;
}

crypto_result<bytes> ocsp_signer::sign(const std::vector<ocsp_single_response>& singles,
                                       const bytes& nonce) const {
  detail::clear_errors();
  if (singles.empty()) return crypto_error{"OCSP sign: no responses"};
  ossl_ptr<OCSP_BASICRESP> bs(OCSP_BASICRESP_new());
  if (!bs) return detail::openssl_error("OCSP sign");
  X509_NAME* issuer_name = X509_get_subject_name(impl_->issuer.get());
  const ASN1_BIT_STRING* issuer_key = X509_get0_pubkey_bitstr(impl_->issuer.get());
  for (const auto& s : singles) {
    auto serial = serial_of(s.serial_hex);
    if (!serial) return serial.error();
    // The CertID is rebuilt from the issuer; for a request that issuer_matches() accepted it
    // equals the client's, which is what OpenSSL and NSS compare.
    ossl_ptr<OCSP_CERTID> cid(
        OCSP_cert_id_new(md_of(s.hash), issuer_name, issuer_key, serial.value().get()));
    auto this_update = time_of(s.this_update);
    if (!cid || !this_update) return detail::openssl_error("OCSP sign: CertID");
    ossl_ptr<ASN1_TIME> next_update, revoked_at;
    if (s.next_update != 0) {
      auto t = time_of(s.next_update);
      if (!t) return t.error();
      next_update = std::move(t).value();
    }
    int status = V_OCSP_CERTSTATUS_GOOD;
    int reason = OCSP_REVOKED_STATUS_NOSTATUS;
    if (s.status == ocsp_cert_status::revoked) {
      auto t = time_of(s.revoked_at);
      if (!t) return t.error();
      revoked_at = std::move(t).value();
      status = V_OCSP_CERTSTATUS_REVOKED;
      if (s.reason_code >= 0 && s.reason_code <= 10 && s.reason_code != 7) reason = s.reason_code;
    } else if (s.status == ocsp_cert_status::unknown) {
      status = V_OCSP_CERTSTATUS_UNKNOWN;
    }
    if (OCSP_basic_add1_status(bs.get(), cid.get(), status, reason, revoked_at.get(),
                               this_update.value().get(), next_update.get()) == nullptr)
      return detail::openssl_error("OCSP sign: add status");
  }
  if (!nonce.empty()) {
    ossl_ptr<ASN1_OCTET_STRING> value(ASN1_OCTET_STRING_new());
    if (!value ||
        ASN1_OCTET_STRING_set(value.get(), nonce.data(), static_cast<int>(nonce.size())) != 1)
      return detail::openssl_error("OCSP sign: nonce");
    ossl_ptr<X509_EXTENSION> ext(
        X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, value.get()));
    if (!ext || OCSP_BASICRESP_add_ext(bs.get(), ext.get(), -1) != 1)
      return detail::openssl_error("OCSP sign: nonce");
  }
  // responderID byKey: 20 bytes instead of the responder's name.
  if (OCSP_basic_sign(bs.get(), impl_->responder.get(), impl_->key.get(),
                      detail::signing_digest(impl_->key.get()), nullptr, OCSP_RESPID_KEY) != 1)
    return detail::openssl_error("OCSP sign: signature");
  ossl_ptr<OCSP_RESPONSE> resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs.get()));
  if (!resp) return detail::openssl_error("OCSP sign: response");
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp.get(), &der);
  if (len <= 0) return detail::openssl_error("OCSP sign: encode");
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

}  // namespace certctl::crypto
