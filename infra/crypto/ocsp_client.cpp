// The client side of OCSP: building requests and reading responses (tests, the benchmark and
// operators' diagnostics). The responder side is in ocsp.cpp.
#include <openssl/ocsp.h>

#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/ocsp.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

constexpr size_t max_ocsp_response_der = 1024 * 1024;

const EVP_MD* md_of(ocsp_hash h) {
  switch (h) {
    case ocsp_hash::sha256:
      return detail::sha256_md();
    case ocsp_hash::sha384:
      return detail::sha384_md();
    case ocsp_hash::sha512:
      return detail::sha512_md();
    case ocsp_hash::sha1:
      break;
  }
  return detail::sha1_md();
}

ocsp_hash hash_of(const ASN1_OBJECT* alg) {
  switch (OBJ_obj2nid(alg)) {
    case NID_sha256:
      return ocsp_hash::sha256;
    case NID_sha384:
      return ocsp_hash::sha384;
    case NID_sha512:
      return ocsp_hash::sha512;
    default:
      return ocsp_hash::sha1;
  }
}

crypto_result<std::int64_t> epoch_or_zero(const ASN1_GENERALIZEDTIME* t) {
  if (t == nullptr) return std::int64_t{0};
  return detail::time_to_epoch(t);
}

}  // namespace

crypto_result<bytes> build_ocsp_request(std::string_view issuer_cert_pem,
                                        const std::vector<std::string>& serial_hex, ocsp_hash hash,
                                        bool nonce) {
  auto issuer = detail::load_certificate(issuer_cert_pem);
  if (!issuer) return issuer.error();
  detail::clear_errors();
  ossl_ptr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  if (!req) return detail::openssl_error("build OCSP request");
  for (const auto& hex : serial_hex) {
    BIGNUM* raw = nullptr;
    if (hex.empty() || BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size()))
      return crypto_error{"build OCSP request: serial \"" + hex + "\" is not hex"};
    ossl_ptr<BIGNUM> bn(raw);
    ossl_ptr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    OCSP_CERTID* cid =
        serial ? OCSP_cert_id_new(md_of(hash), X509_get_subject_name(issuer.value().get()),
                                  X509_get0_pubkey_bitstr(issuer.value().get()), serial.get())
               : nullptr;
    if (cid == nullptr) return detail::openssl_error("build OCSP request: CertID");
    if (OCSP_request_add0_id(req.get(), cid) == nullptr) {
      OCSP_CERTID_free(cid);
      return detail::openssl_error("build OCSP request: add CertID");
    }
  }
  if (nonce && OCSP_request_add1_nonce(req.get(), nullptr, 16) != 1)
    return detail::openssl_error("build OCSP request: nonce");
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &der);
  if (len <= 0) return detail::openssl_error("build OCSP request: encode");
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

crypto_result<ocsp_response_info> parse_ocsp_response(const bytes& der) {
  if (der.empty() || der.size() > max_ocsp_response_der)
    return crypto_error{"parse OCSP response: empty or over 1 MiB"};
  detail::clear_errors();
  const unsigned char* p = der.data();
  ossl_ptr<OCSP_RESPONSE> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) return detail::openssl_error("parse OCSP response");
  ocsp_response_info out;
  out.status = static_cast<ocsp_response_status>(OCSP_response_status(resp.get()));
  if (out.status != ocsp_response_status::successful) return out;
  ossl_ptr<OCSP_BASICRESP> bs(OCSP_response_get1_basic(resp.get()));
  if (!bs) return detail::openssl_error("parse OCSP response: basic response");
  auto produced = epoch_or_zero(OCSP_resp_get0_produced_at(bs.get()));
  if (!produced) return produced.error();
  out.produced_at = produced.value();
  for (int i = 0; i < OCSP_resp_count(bs.get()); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(bs.get(), i);
    int reason = -1;
    ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
    const int status =
        OCSP_single_get0_status(single, &reason, &revoked, &this_update, &next_update);
    ASN1_OBJECT* alg = nullptr;
    ASN1_INTEGER* serial = nullptr;
    OCSP_id_get0_info(nullptr, &alg, nullptr, &serial,
                      const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single)));
    ocsp_single_response s;
    s.hash = hash_of(alg);
    s.serial_hex = serial ? detail::integer_to_hex(serial) : std::string();
    s.status = status == V_OCSP_CERTSTATUS_GOOD      ? ocsp_cert_status::good
               : status == V_OCSP_CERTSTATUS_REVOKED ? ocsp_cert_status::revoked
                                                     : ocsp_cert_status::unknown;
    s.reason_code = reason;
    auto r = epoch_or_zero(revoked);
    auto tu = epoch_or_zero(this_update);
    auto nu = epoch_or_zero(next_update);
    if (!r || !tu || !nu) return crypto_error{"parse OCSP response: bad time"};
    s.revoked_at = r.value();
    s.this_update = tu.value();
    s.next_update = nu.value();
    out.singles.push_back(std::move(s));
  }
  const int idx = OCSP_BASICRESP_get_ext_by_NID(bs.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (idx >= 0) {
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(OCSP_BASICRESP_get_ext(bs.get(), idx));
    out.nonce.assign(ASN1_STRING_get0_data(v), ASN1_STRING_get0_data(v) + ASN1_STRING_length(v));
  }
  // Signature only (OCSP_NOVERIFY skips the chain): the caller decides whom to trust.
  ossl_ptr<X509_STORE> store(X509_STORE_new());
  out.signature_valid =
      store && OCSP_basic_verify(bs.get(), nullptr, store.get(), OCSP_NOVERIFY) == 1;
  detail::clear_errors();
  return out;
}

}  // namespace certctl::crypto
