#include "infra/crypto/crl.hpp"

#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/signer.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

/// Latest time X.509 can carry (GeneralizedTime 9999-12-31T23:59:59Z).
constexpr std::int64_t max_x509_time = 253402300799;

crypto_error fail(std::string message) {
  detail::clear_errors();
  return crypto_error{"sign CRL: " + std::move(message)};
}

bool valid_time(std::int64_t t) {
  return t >= 0 && t <= max_x509_time;
}

/// RFC 5280 §5.3.1: 0-10 without 7 (unassigned).
bool valid_reason(int code) {
  return code >= 0 && code <= 10 && code != 7;
}

/// Hex serial -> positive ASN1_INTEGER, at most max_serial_octets long.
crypto_result<ossl_ptr<ASN1_INTEGER>> serial_from_hex(std::string_view hex) {
  if (hex.empty()) return fail("empty serial number");
  size_t first = 0;
  while (first + 1 < hex.size() && hex[first] == '0') ++first;  // leading zeros carry nothing
  if (hex.size() - first > 2 * max_serial_octets)
    return fail("serial number longer than " + std::to_string(max_serial_octets) + " octets");
  for (char c : hex)
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return fail("serial number \"" + std::string(hex.substr(0, 48)) + "\" is not hex");
  BIGNUM* raw = nullptr;
  const std::string digits(hex.substr(first));
  if (BN_hex2bn(&raw, digits.c_str()) == 0) return fail("serial number does not parse");
  ossl_ptr<BIGNUM> bn(raw);
  ossl_ptr<ASN1_INTEGER> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return detail::openssl_error("sign CRL: serial number");
  return out;
}

crypto_result<ossl_ptr<ASN1_TIME>> make_time(std::int64_t t, const char* what) {
  if (!valid_time(t)) return fail(std::string(what) + " out of range");
  ossl_ptr<ASN1_TIME> out(ASN1_TIME_set(nullptr, static_cast<time_t>(t)));
  if (!out) return detail::openssl_error(std::string("sign CRL: ") + what);
  return out;
}

crypto_result<ossl_ptr<X509_REVOKED>> make_entry(const crl_entry& e) {
  ossl_ptr<X509_REVOKED> r(X509_REVOKED_new());
  if (!r) return detail::openssl_error("sign CRL: entry");
  auto serial = serial_from_hex(e.serial_hex);
  if (!serial) return serial.error();
  auto at = make_time(e.revoked_at, "revocation date");
  if (!at) return at.error();
  if (!valid_reason(e.reason_code))
    return fail("reason code " + std::to_string(e.reason_code) + " is not an RFC 5280 CRLReason");
  if (X509_REVOKED_set_serialNumber(r.get(), serial.value().get()) != 1 ||
      X509_REVOKED_set_revocationDate(r.get(), at.value().get()) != 1)
    return detail::openssl_error("sign CRL: entry");
  if (e.reason_code != 0) {
    ossl_ptr<ASN1_ENUMERATED> reason(ASN1_ENUMERATED_new());
    if (!reason || ASN1_ENUMERATED_set(reason.get(), e.reason_code) != 1 ||
        X509_REVOKED_add1_ext_i2d(r.get(), NID_crl_reason, reason.get(), 0, 0) != 1)
      return detail::openssl_error("sign CRL: reasonCode");
  }
  if (e.invalidity_date != 0) {
    if (!valid_time(e.invalidity_date)) return fail("invalidity date out of range");
    // §5.3.2: always GeneralizedTime, whatever the year.
    ossl_ptr<ASN1_GENERALIZEDTIME> when(
        ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(e.invalidity_date)));
    if (!when || X509_REVOKED_add1_ext_i2d(r.get(), NID_invalidity_date, when.get(), 0, 0) != 1)
      return detail::openssl_error("sign CRL: invalidityDate");
  }
  return r;
}

std::string hex_lower(const unsigned char* d, int n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += digits[d[i] >> 4];
    out += digits[d[i] & 15];
  }
  return out;
}

}  // namespace

struct revocation_signer::impl {
  ossl_ptr<X509> cert;
  ossl_ptr<EVP_PKEY> key;
  bytes key_id;  ///< the CA's subjectKeyIdentifier: our CRLs' authorityKeyIdentifier
  std::string cert_pem;
  std::int64_t not_after = 0;
};

revocation_signer::revocation_signer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
revocation_signer::revocation_signer(revocation_signer&&) noexcept = default;
revocation_signer& revocation_signer::operator=(revocation_signer&&) noexcept = default;
revocation_signer::~revocation_signer() = default;

crypto_result<revocation_signer> revocation_signer::create(std::string_view ca_cert_pem,
                                                           std::string_view ca_key_pem,
                                                           std::string_view passphrase) {
  if (auto ok = check_ca_certificate(ca_cert_pem); !ok) return ok.error();
  if (auto ok = check_key_matches_certificate(ca_key_pem, ca_cert_pem, passphrase); !ok)
    return crypto_error{"revocation signer: the key does not match the CA certificate"};
  auto p = std::make_unique<impl>();
  auto cert = detail::load_certificate(ca_cert_pem);
  if (!cert) return cert.error();
  auto key = detail::load_private_key(ca_key_pem, passphrase);
  if (!key) return key.error();
  p->cert = std::move(cert).value();
  p->key = std::move(key).value();
  p->cert_pem = detail::certificate_pem(p->cert.get());
  if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(p->cert.get())) {
    const auto* d = ASN1_STRING_get0_data(skid);
    p->key_id.assign(d, d + ASN1_STRING_length(skid));
  } else {
    // RFC 5280 §4.2.1.2 method 1, as the certificate signer derives it for such a CA.
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_pubkey_digest(p->cert.get(), detail::sha1_md(), md, &len) != 1)
      return detail::openssl_error("revocation signer: key identifier");
    p->key_id.assign(md, md + len);
  }
  auto na = detail::time_to_epoch(X509_get0_notAfter(p->cert.get()));
  if (!na) return na.error();
  p->not_after = na.value();
  return revocation_signer(std::move(p));
}

const std::string& revocation_signer::ca_certificate_pem() const {
  return impl_->cert_pem;
}

std::int64_t revocation_signer::ca_not_after() const {
  return impl_->not_after;
}

crypto_result<bytes> revocation_signer::sign_crl(const crl_content& c) const {
  detail::clear_errors();
  if (c.crl_number < 0) return fail("negative CRL number");
  if (c.next_update <= c.this_update) return fail("nextUpdate must be after thisUpdate");
  if (c.revoked.size() > max_crl_entries)
    return fail(std::to_string(c.revoked.size()) + " entries exceed the limit of " +
                std::to_string(max_crl_entries));
  ossl_ptr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return detail::openssl_error("sign CRL");
  auto this_update = make_time(c.this_update, "thisUpdate");
  if (!this_update) return this_update.error();
  auto next_update = make_time(c.next_update, "nextUpdate");
  if (!next_update) return next_update.error();
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(impl_->cert.get())) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), this_update.value().get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.value().get()) != 1)
    return detail::openssl_error("sign CRL: header");
  for (const auto& e : c.revoked) {
    auto entry = make_entry(e);
    if (!entry) return entry.error();
    if (X509_CRL_add0_revoked(crl.get(), entry.value().get()) != 1)
      return detail::openssl_error("sign CRL: add entry");
    entry.value().release();  // owned by the CRL now
  }
  if (X509_CRL_sort(crl.get()) != 1) return detail::openssl_error("sign CRL: sort");

  ossl_ptr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  ossl_ptr<ASN1_OCTET_STRING> kid(ASN1_OCTET_STRING_new());
  if (!akid || !kid ||
      ASN1_OCTET_STRING_set(kid.get(), impl_->key_id.data(),
                            static_cast<int>(impl_->key_id.size())) != 1)
    return detail::openssl_error("sign CRL: authorityKeyIdentifier");
  akid->keyid = kid.release();
  ossl_ptr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), c.crl_number) != 1)
    return detail::openssl_error("sign CRL: cRLNumber");
  if (X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, akid.get(), 0, 0) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    return detail::openssl_error("sign CRL: extensions");

  if (X509_CRL_sign(crl.get(), impl_->key.get(), detail::signing_digest(impl_->key.get())) <= 0)
    return detail::openssl_error("sign CRL: signature");
  unsigned char* der = nullptr;
  const int len = i2d_X509_CRL(crl.get(), &der);
  if (len <= 0) return detail::openssl_error("sign CRL: encode");
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

crypto_result<responder_credentials> revocation_signer::issue_ocsp_responder(
    std::int64_t not_before, std::int64_t not_after) const {
  detail::clear_errors();
  auto fail_r = [](const char* what) {
    return detail::openssl_error(std::string("issue OCSP responder certificate: ") + what);
  };
  not_after = std::min(not_after, impl_->not_after);
  if (!valid_time(not_before) || not_after <= not_before)
    return crypto_error{"issue OCSP responder certificate: empty or invalid validity"};
  ossl_ptr<EVP_PKEY> key = detail::new_key(key_type::ecdsa_p256);
  if (!key) return fail_r("key");
  ossl_ptr<X509> x(X509_new());
  const bytes serial = random_serial();
  ossl_ptr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  ossl_ptr<ASN1_INTEGER> sn(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  auto nb = make_time(not_before, "notBefore");
  auto na = make_time(not_after, "notAfter");
  if (!x || !sn || !nb || !na) return fail_r("certificate");
  // The CA's CN names the responder, so `openssl ocsp -resp_text` shows whose it is.
  std::string cn = detail::name_entry(X509_get_subject_name(impl_->cert.get()), NID_commonName);
  cn = (cn.empty() ? std::string("certctl") : cn.substr(0, 40)) + " OCSP Responder";
  ossl_ptr<X509_NAME> subject(X509_NAME_new());
  if (!subject || X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                             -1, 0) != 1)
    return fail_r("subject");
  if (X509_set_version(x.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(x.get(), sn.get()) != 1 ||
      X509_set_issuer_name(x.get(), X509_get_subject_name(impl_->cert.get())) != 1 ||
      X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set1_notBefore(x.get(), nb.value().get()) != 1 ||
      X509_set1_notAfter(x.get(), na.value().get()) != 1 ||
      X509_set_pubkey(x.get(), key.get()) != 1)
    return fail_r("fields");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, impl_->cert.get(), x.get(), nullptr, nullptr, 0);
  // RFC 6960 §4.2.2.2: id-kp-OCSPSigning marks the delegation; §4.2.2.2.1 id-pkix-ocsp-nocheck
  // tells clients to trust it for its lifetime, which is why the lifetime is short.
  const std::pair<int, const char*> exts[] = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "OCSPSigning"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
      {NID_id_pkix_OCSP_noCheck, "NULL"},
  };
  for (const auto& [nid, value] : exts) {
    ossl_ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || X509_add_ext(x.get(), ext.get(), -1) != 1) return fail_r(OBJ_nid2sn(nid));
  }
  if (X509_sign(x.get(), impl_->key.get(), detail::signing_digest(impl_->key.get())) <= 0)
    return fail_r("signature");
  auto exported = detail::export_private_key(key.get(), "issue OCSP responder certificate");
  if (!exported) return exported.error();
  return responder_credentials{detail::certificate_pem(x.get()), std::move(exported.value().pem),
                               not_before, not_after};
}

crypto_result<crl_info> parse_crl(const bytes& der, std::string_view issuer_cert_pem) {
  detail::clear_errors();
  if (der.empty() || der.size() > max_crl_der)
    return crypto_error{"parse CRL: size " + std::to_string(der.size()) + " outside 1.." +
                        std::to_string(max_crl_der)};
  const unsigned char* p = der.data();
  ossl_ptr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl) return detail::openssl_error("parse CRL");
  if (p != der.data() + der.size()) return crypto_error{"parse CRL: trailing bytes after the CRL"};
  if (!issuer_cert_pem.empty()) {
    auto issuer = detail::load_certificate(issuer_cert_pem);
    if (!issuer) return issuer.error();
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()),
                      X509_get_subject_name(issuer.value().get())) != 0)
      return crypto_error{"parse CRL: issuer name differs from the CA's subject"};
    EVP_PKEY* pub = X509_get0_pubkey(issuer.value().get());
    if (pub == nullptr || X509_CRL_verify(crl.get(), pub) != 1)
      return detail::openssl_error("parse CRL: signature does not verify");
  }
  crl_info out;
  out.issuer_dn = detail::name_to_string(X509_CRL_get_issuer(crl.get()));
  auto lu = detail::time_to_epoch(X509_CRL_get0_lastUpdate(crl.get()));
  if (!lu) return lu.error();
  out.this_update = lu.value();
  if (const ASN1_TIME* nu = X509_CRL_get0_nextUpdate(crl.get())) {
    auto t = detail::time_to_epoch(nu);
    if (!t) return t.error();
    out.next_update = t.value();
  }
  int crit = 0;
  ossl_ptr<ASN1_INTEGER> number(
      static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, &crit, nullptr)));
  std::int64_t n = -1;
  if (number && ASN1_INTEGER_get_int64(&n, number.get()) == 1 && n >= 0) out.crl_number = n;
  ossl_ptr<AUTHORITY_KEYID> akid(static_cast<AUTHORITY_KEYID*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_authority_key_identifier, &crit, nullptr)));
  if (akid && akid->keyid != nullptr)
    out.authority_key_id_hex =
        hex_lower(ASN1_STRING_get0_data(akid->keyid), ASN1_STRING_length(akid->keyid));
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
  const int count = revoked == nullptr ? 0 : sk_X509_REVOKED_num(revoked);
  for (int i = 0; i < count; ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(revoked, i);
    crl_entry e;
    e.serial_hex = detail::integer_to_hex(X509_REVOKED_get0_serialNumber(r));
    auto at = detail::time_to_epoch(X509_REVOKED_get0_revocationDate(r));
    if (!at) return at.error();
    e.revoked_at = at.value();
    ossl_ptr<ASN1_ENUMERATED> reason(
        static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, nullptr)));
    if (reason) e.reason_code = static_cast<int>(ASN1_ENUMERATED_get(reason.get()));
    ossl_ptr<ASN1_GENERALIZEDTIME> inv(static_cast<ASN1_GENERALIZEDTIME*>(
        X509_REVOKED_get_ext_d2i(r, NID_invalidity_date, &crit, nullptr)));
    if (inv) {
      auto t = detail::time_to_epoch(inv.get());
      if (!t) return t.error();
      e.invalidity_date = t.value();
    }
    out.revoked.push_back(std::move(e));
  }
  detail::clear_errors();  // X509_*_get_ext_d2i leave "not found" entries behind
  return out;
}

std::string crl_der_to_pem(const bytes& der) {
  return detail::pem_encode("X509 CRL", der.data(), der.size());
}

}  // namespace certctl::crypto
