#include "infra/crypto/signer.hpp"

#include <openssl/pem.h>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {

using detail::ossl_ptr;

bytes random_serial() {
  bytes serial = random_bytes(16);
  // Top bit clear keeps the INTEGER positive without a 0x00 pad; next bit set fixes the length.
  serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);
  return serial;
}

crypto_result<done> validate_names(const subject_alt_names& sans) {
  auto names = detail::make_general_names(sans);
  if (!names) return names.error();
  return done{};
}

namespace {

/// The issuing side of a signature: key, name and key identifier. For a self-signed
/// certificate the name and key id are the subject's own.
struct issuer_side {
  EVP_PKEY* key = nullptr;
  const X509_NAME* name = nullptr;  // nullptr: self-signed, use the subject name
  const bytes* key_id = nullptr;    // nullptr: self-signed, use the subject key id
};

crypto_result<done> add_ext(X509* x, int nid, void* value, bool critical, const char* what) {
  if (X509_add1_ext_i2d(x, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1)
    return detail::openssl_error(std::string("sign certificate: ") + what);
  return done{};
}

/// TLS Feature (RFC 7633) with the one feature that matters: status_request (5).
crypto_result<done> add_must_staple(X509* x) {
  TLS_FEATURE* features = TLS_FEATURE_new();
  ASN1_INTEGER* status_request = ASN1_INTEGER_new();
  if (features == nullptr || status_request == nullptr ||
      ASN1_INTEGER_set(status_request, 5) != 1 ||
      sk_ASN1_INTEGER_push(features, status_request) == 0) {
    ASN1_INTEGER_free(status_request);
    TLS_FEATURE_free(features);
    return detail::openssl_error("sign certificate: TLS feature");
  }
  auto added = add_ext(x, NID_tlsfeature, features, false, "TLS feature");
  TLS_FEATURE_free(features);
  return added;
}

crypto_result<ossl_ptr<X509_NAME>> make_subject(const distinguished_name& dn) {
  if (dn.common_name.size() > 64)  // RFC 5280 ub-common-name
    return crypto_error{"sign certificate: common name longer than 64 characters"};
  ossl_ptr<X509_NAME> name(X509_NAME_new());
  if (!name) return detail::openssl_error("sign certificate: subject");
  const std::pair<int, const std::string*> entries[] = {
      {NID_organizationName, &dn.organization},
      {NID_organizationalUnitName, &dn.organizational_unit},
      {NID_commonName, &dn.common_name}};
  for (const auto& [nid, value] : entries) {
    if (value->empty()) continue;
    const auto* data = reinterpret_cast<const unsigned char*>(value->c_str());
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8, data, -1, -1, 0) != 1)
      return detail::openssl_error("sign certificate: subject " + *value);
  }
  return name;
}

std::uint32_t leaf_key_usage(const certificate_template& t, bool rsa_key) {
  std::uint32_t ku = KU_DIGITAL_SIGNATURE;
  for (auto u : t.ext_key_usages) {
    if ((u == ext_key_usage::server_auth || u == ext_key_usage::client_auth) && rsa_key)
      ku |= KU_KEY_ENCIPHERMENT;
    if (u == ext_key_usage::email_protection) ku |= KU_NON_REPUDIATION;
  }
  return ku;
}

crypto_result<done> add_key_usage(X509* x, std::uint32_t ku) {
  ossl_ptr<ASN1_BIT_STRING> bits(ASN1_BIT_STRING_new());
  if (!bits) return detail::openssl_error("sign certificate: keyUsage");
  // Bit numbers are the RFC 5280 positions; KU_* constants are the same bits, byte-swapped.
  const std::pair<std::uint32_t, int> map[] = {{KU_DIGITAL_SIGNATURE, 0}, {KU_NON_REPUDIATION, 1},
                                               {KU_KEY_ENCIPHERMENT, 2},  {KU_DATA_ENCIPHERMENT, 3},
                                               {KU_KEY_AGREEMENT, 4},     {KU_KEY_CERT_SIGN, 5},
                                               {KU_CRL_SIGN, 6}};
  for (const auto& [flag, bit] : map)
    if ((ku & flag) && ASN1_BIT_STRING_set_bit(bits.get(), bit, 1) != 1)
      return detail::openssl_error("sign certificate: keyUsage");
  return add_ext(x, NID_key_usage, bits.get(), true, "keyUsage");
}

crypto_result<done> add_ext_key_usage(X509* x, const std::vector<ext_key_usage>& ekus) {
  if (ekus.empty()) return done{};
  ossl_ptr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
  if (!eku) return detail::openssl_error("sign certificate: extendedKeyUsage");
  for (auto u : ekus) {
    int nid = NID_undef;
    switch (u) {
      case ext_key_usage::server_auth:
        nid = NID_server_auth;
        break;
      case ext_key_usage::client_auth:
        nid = NID_client_auth;
        break;
      case ext_key_usage::email_protection:
        nid = NID_email_protect;
        break;
      case ext_key_usage::code_signing:
        nid = NID_code_sign;
        break;
      case ext_key_usage::time_stamping:
        nid = NID_time_stamp;
        break;
      case ext_key_usage::ocsp_signing:
        nid = NID_OCSP_sign;
        break;
    }
    // OBJ_nid2obj returns a static object; pushing it is safe and freeing it is a no-op.
    if (sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(nid)) == 0)
      return detail::openssl_error("sign certificate: extendedKeyUsage");
  }
  // RFC 3161 wants a TSA certificate's EKU critical and timeStamping alone.
  const bool critical = ekus.size() == 1 && ekus.front() == ext_key_usage::time_stamping;
  return add_ext(x, NID_ext_key_usage, eku.get(), critical, "extendedKeyUsage");
}

crypto_result<done> add_basic_constraints(X509* x, const certificate_template& t) {
  ossl_ptr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  if (!bc) return detail::openssl_error("sign certificate: basicConstraints");
  bc->ca = t.is_ca ? 0xff : 0;
  if (t.is_ca && t.path_len >= 0) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, t.path_len) != 1)
      return detail::openssl_error("sign certificate: pathLenConstraint");
  }
  return add_ext(x, NID_basic_constraints, bc.get(), true, "basicConstraints");
}

crypto_result<ossl_ptr<ASN1_OCTET_STRING>> octets(const bytes& data, const char* what) {
  ossl_ptr<ASN1_OCTET_STRING> os(ASN1_OCTET_STRING_new());
  if (!os || ASN1_OCTET_STRING_set(os.get(), data.data(), static_cast<int>(data.size())) != 1)
    return detail::openssl_error(std::string("sign certificate: ") + what);
  return os;
}

crypto_result<done> add_subject_key_id(X509* x, const bytes& key_id) {
  auto os = octets(key_id, "subjectKeyIdentifier");
  if (!os) return os.error();
  return add_ext(x, NID_subject_key_identifier, os.value().get(), false, "subjectKeyIdentifier");
}

crypto_result<done> add_authority_key_id(X509* x, const bytes& key_id) {
  ossl_ptr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  auto os = octets(key_id, "authorityKeyIdentifier");
  if (!akid || !os) return detail::openssl_error("sign certificate: authorityKeyIdentifier");
  akid->keyid = os.value().release();
  return add_ext(x, NID_authority_key_identifier, akid.get(), false, "authorityKeyIdentifier");
}

crypto_result<done> add_name_constraints(X509* x, const certificate_template& t) {
  if (t.permitted_dns.empty() && t.excluded_dns.empty()) return done{};
  ossl_ptr<NAME_CONSTRAINTS> nc(NAME_CONSTRAINTS_new());
  if (!nc) return detail::openssl_error("sign certificate: nameConstraints");
  auto fill = [](const std::vector<std::string>& names,
                 STACK_OF(GENERAL_SUBTREE) * *out) -> crypto_result<done> {
    if (names.empty()) return done{};
    *out = sk_GENERAL_SUBTREE_new_null();
    if (*out == nullptr) return detail::openssl_error("sign certificate: nameConstraints");
    for (const auto& n : names) {
      auto gn = detail::make_dns_name(n, true);
      if (!gn) return crypto_error{"sign certificate: name constraint: " + gn.error().message};
      GENERAL_SUBTREE* sub = GENERAL_SUBTREE_new();
      if (sub == nullptr || sk_GENERAL_SUBTREE_push(*out, sub) == 0) {
        GENERAL_SUBTREE_free(sub);
        return detail::openssl_error("sign certificate: nameConstraints");
      }
      GENERAL_NAME_free(sub->base);
      sub->base = gn.value().release();
    }
    return done{};
  };
  if (auto r = fill(t.permitted_dns, &nc->permittedSubtrees); !r) return r;
  if (auto r = fill(t.excluded_dns, &nc->excludedSubtrees); !r) return r;
  return add_ext(x, NID_name_constraints, nc.get(), true, "nameConstraints");  // RFC 5280: critical
}

crypto_result<done> add_urls(X509* x, const certificate_template& t) {
  if (!t.crl_url.empty()) {
    auto uri = detail::make_uri_name(t.crl_url);
    if (!uri) return crypto_error{"sign certificate: CRL URL: " + uri.error().message};
    ossl_ptr<CRL_DIST_POINTS> dps(sk_DIST_POINT_new_null());
    DIST_POINT* dp = DIST_POINT_new();
    if (!dps || dp == nullptr || sk_DIST_POINT_push(dps.get(), dp) == 0) {
      DIST_POINT_free(dp);
      return detail::openssl_error("sign certificate: CRL distribution point");
    }
    dp->distpoint = DIST_POINT_NAME_new();
    if (dp->distpoint == nullptr) return detail::openssl_error("sign certificate: CRL DP");
    dp->distpoint->type = 0;  // fullName
    dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
    if (dp->distpoint->name.fullname == nullptr ||
        sk_GENERAL_NAME_push(dp->distpoint->name.fullname, uri.value().get()) == 0)
      return detail::openssl_error("sign certificate: CRL DP");
    uri.value().release();
    if (auto r = add_ext(x, NID_crl_distribution_points, dps.get(), false, "CRL DP"); !r) return r;
  }
  if (t.ocsp_url.empty() && t.ca_issuers_url.empty()) return done{};
  ossl_ptr<AUTHORITY_INFO_ACCESS> aia(sk_ACCESS_DESCRIPTION_new_null());
  if (!aia) return detail::openssl_error("sign certificate: authorityInfoAccess");
  const std::pair<int, const std::string*> entries[] = {{NID_ad_OCSP, &t.ocsp_url},
                                                        {NID_ad_ca_issuers, &t.ca_issuers_url}};
  for (const auto& [nid, url] : entries) {
    if (url->empty()) continue;
    auto uri = detail::make_uri_name(*url);
    if (!uri) return crypto_error{"sign certificate: AIA URL: " + uri.error().message};
    ACCESS_DESCRIPTION* ad = ACCESS_DESCRIPTION_new();
    if (ad == nullptr || sk_ACCESS_DESCRIPTION_push(aia.get(), ad) == 0) {
      ACCESS_DESCRIPTION_free(ad);
      return detail::openssl_error("sign certificate: authorityInfoAccess");
    }
    ASN1_OBJECT_free(ad->method);
    ad->method = OBJ_nid2obj(nid);
    GENERAL_NAME_free(ad->location);
    ad->location = uri.value().release();
  }
  return add_ext(x, NID_info_access, aia.get(), false, "authorityInfoAccess");
}

crypto_result<bytes> key_id_of(X509* x) {
  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(x, detail::sha1_md(), md, &len) != 1)
    return detail::openssl_error("sign certificate: subject key identifier");
  return bytes(md, md + len);
}

/// The same key id from the BIT STRING's bytes, for a certificate still being built.
crypto_result<bytes> key_id_of(const bytes& public_bits) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(public_bits.data(), public_bits.size(), md, &len, detail::sha1_md(), nullptr) != 1)
    return detail::openssl_error("sign certificate: subject key identifier");
  return bytes(md, md + len);
}

/// Upper-case hex of a big-endian magnitude without its leading zero bytes (integer_to_hex's
/// form), so the serial need not be read back from the signed certificate.
std::string serial_to_hex(const bytes& serial) {
  static const char digits[] = "0123456789ABCDEF";
  size_t first = 0;
  while (first + 1 < serial.size() && serial[first] == 0) ++first;
  std::string out;
  for (size_t i = first; i < serial.size(); ++i) {
    out += digits[serial[i] >> 4];
    out += digits[serial[i] & 0x0f];
  }
  return out;
}

/// Signs `t` for the key in `subject_spki` (SubjectPublicKeyInfo DER).
crypto_result<signed_certificate> build(const certificate_template& t, const bytes& subject_spki,
                                        const issuer_side& issuer) {
  if (t.not_after <= t.not_before)
    return crypto_error{"sign certificate: notAfter must be later than notBefore"};
  if (t.subject.common_name.empty() && t.sans.empty())
    return crypto_error{"sign certificate: needs a common name or a subject alternative name"};
  if (!t.is_ca && (t.path_len >= 0 || !t.permitted_dns.empty() || !t.excluded_dns.empty()))
    return crypto_error{"sign certificate: path length and name constraints are for CAs only"};
  if (t.serial.size() > 20)  // RFC 5280 4.1.2.2
    return crypto_error{"sign certificate: serial longer than 20 bytes"};
  detail::clear_errors();

  ossl_ptr<X509> x(X509_new());
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1)
    return detail::openssl_error("sign certificate");
  const bytes serial = t.serial.empty() ? random_serial() : t.serial;
  ossl_ptr<BIGNUM> bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  ossl_ptr<ASN1_INTEGER> serial_int(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (!serial_int || BN_is_zero(bn.get()) || X509_set_serialNumber(x.get(), serial_int.get()) != 1)
    return crypto_error{"sign certificate: serial must be a positive integer"};

  auto subject = make_subject(t.subject);
  if (!subject) return subject.error();
  const X509_NAME* issuer_name = issuer.name ? issuer.name : subject.value().get();
  if (X509_set_subject_name(x.get(), subject.value().get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer_name) != 1)
    return detail::openssl_error("sign certificate: names");
  if (ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(t.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(t.not_after)) == nullptr)
    return detail::openssl_error("sign certificate: validity");
  // Copied in as DER: X509_set_pubkey would run the key through OpenSSL's encoder and decoder
  // (~135 µs); set_spki still refuses unsupported or malformed keys.
  auto subject_key = detail::set_spki(X509_get_X509_PUBKEY(x.get()), subject_spki);
  if (!subject_key) return crypto_error{"sign certificate: " + subject_key.error().message};

  if (auto r = add_basic_constraints(x.get(), t); !r) return r.error();
  const bool rsa = subject_key.value().base_id == EVP_PKEY_RSA;
  const std::uint32_t ku =
      t.is_ca ? (KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE) : leaf_key_usage(t, rsa);
  if (auto r = add_key_usage(x.get(), ku); !r) return r.error();
  if (auto r = add_ext_key_usage(x.get(), t.ext_key_usages); !r) return r.error();
  auto ski = key_id_of(subject_key.value().public_bits);
  if (!ski) return ski.error();
  if (auto r = add_subject_key_id(x.get(), ski.value()); !r) return r.error();
  const bytes& aki = issuer.key_id ? *issuer.key_id : ski.value();
  if (auto r = add_authority_key_id(x.get(), aki); !r) return r.error();
  if (!t.sans.empty()) {
    auto names = detail::make_general_names(t.sans);
    if (!names) return crypto_error{"sign certificate: " + names.error().message};
    // RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
    const bool critical = t.subject.common_name.empty() && t.subject.organization.empty() &&
                          t.subject.organizational_unit.empty();
    if (auto r = add_ext(x.get(), NID_subject_alt_name, names.value().get(), critical, "SAN"); !r)
      return r.error();
  }
  if (t.must_staple && !t.is_ca)
    if (auto r = add_must_staple(x.get()); !r) return r.error();
  if (auto r = add_name_constraints(x.get(), t); !r) return r.error();
  if (auto r = add_urls(x.get(), t); !r) return r.error();

  if (X509_sign(x.get(), issuer.key, detail::signing_digest(issuer.key)) <= 0)
    return detail::openssl_error("sign certificate: signature");
  signed_certificate out;
  out.der = detail::certificate_der(x.get());
  if (out.der.empty()) return detail::openssl_error("sign certificate: encode");
  out.pem = detail::pem_encode("CERTIFICATE", out.der.data(), out.der.size());
  out.serial_hex = serial_to_hex(serial);
  out.not_before = t.not_before;
  out.not_after = t.not_after;
  out.fingerprint_sha256_hex = to_hex(
      sha256_of(std::string_view(reinterpret_cast<const char*>(out.der.data()), out.der.size())));
  return out;
}

}  // namespace

struct certificate_signer::impl {
  ossl_ptr<EVP_PKEY> key;
  ossl_ptr<X509_NAME> name;
  bytes key_id;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
};

certificate_signer::certificate_signer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
certificate_signer::certificate_signer(certificate_signer&&) noexcept = default;
certificate_signer& certificate_signer::operator=(certificate_signer&&) noexcept = default;
certificate_signer::~certificate_signer() = default;

crypto_result<certificate_signer> certificate_signer::create(std::string_view ca_cert_pem,
                                                             std::string_view ca_key_pem,
                                                             std::string_view passphrase) {
  if (auto r = check_ca_certificate(ca_cert_pem); !r) return r.error();
  if (auto r = check_key_matches_certificate(ca_key_pem, ca_cert_pem, passphrase); !r)
    return r.error();
  auto cert = detail::load_certificate(ca_cert_pem);
  if (!cert) return cert.error();
  auto key = detail::load_private_key(ca_key_pem, passphrase);
  if (!key) return key.error();
  X509* x = cert.value().get();

  auto p = std::make_unique<impl>();
  p->key = std::move(key).value();
  p->name.reset(X509_NAME_dup(X509_get_subject_name(x)));
  if (!p->name) return detail::openssl_error("load CA: subject name");
  // Encode once now so concurrent sign() calls only ever read the cached encoding.
  if (i2d_X509_NAME(p->name.get(), nullptr) <= 0) return detail::openssl_error("load CA: name");
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(x);
  if (skid != nullptr) {
    const auto* d = ASN1_STRING_get0_data(skid);
    p->key_id.assign(d, d + ASN1_STRING_length(skid));
  } else {
    auto computed = key_id_of(x);  // a CA without SKI: derive it the way RFC 5280 suggests
    if (!computed) return computed.error();
    p->key_id = std::move(computed).value();
  }
  auto nb = detail::time_to_epoch(X509_get0_notBefore(x));
  auto na = detail::time_to_epoch(X509_get0_notAfter(x));
  if (!nb) return nb.error();
  if (!na) return na.error();
  p->not_before = nb.value();
  p->not_after = na.value();
  return certificate_signer(std::move(p));
}

crypto_result<std::string> certificate_signer::sign(const certificate_template& t) const {
  auto signed_cert = sign_certificate(t);
  if (!signed_cert) return signed_cert.error();
  return std::move(signed_cert.value().pem);
}

crypto_result<signed_certificate> certificate_signer::sign_certificate(
    const certificate_template& t) const {
  return build(t, t.public_key_der,
               issuer_side{impl_->key.get(), impl_->name.get(), &impl_->key_id});
}

std::int64_t certificate_signer::ca_not_after() const {
  return impl_->not_after;
}
std::int64_t certificate_signer::ca_not_before() const {
  return impl_->not_before;
}

crypto_result<std::string> self_sign(std::string_view key_pem, const certificate_template& t) {
  if (auto s = detail::check_size(key_pem, max_private_key_pem, "parse private key"); !s)
    return s.error();
  auto key = detail::load_private_key(key_pem, {});
  if (!key) return key.error();
  auto pub = detail::describe_key(key.value().get());
  if (!pub) return crypto_error{"sign certificate: " + pub.error().message};
  auto signed_cert =
      build(t, pub.value().spki_der, issuer_side{key.value().get(), nullptr, nullptr});
  if (!signed_cert) return signed_cert.error();
  return std::move(signed_cert.value().pem);
}

}  // namespace certctl::crypto
