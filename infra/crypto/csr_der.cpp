// The direct path for DER CSRs with an ECDSA key (detail/csr_der.hpp): what ACME clients send
// (certbot, lego and acme.sh default to P-256). PKCS#10 (RFC 2986 §4):
//   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm,
//                                       signature BIT STRING }
//   CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
//                                           subjectPKInfo, attributes [0] IMPLICIT SET OF }
// The pieces OpenSSL reads cheaply (the subject, the extensions) still go to its ASN.1
// templates; only the key skips the decoder, built from its curve and point instead.
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstring>

#include "infra/crypto/detail/csr_der.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto::detail {
namespace {

/// One DER element: its tag, the whole encoding, and its contents.
struct tlv {
  std::uint8_t tag = 0;
  const std::uint8_t* start = nullptr;
  size_t size = 0;
  const std::uint8_t* body = nullptr;
  size_t body_size = 0;

  bool is(const std::uint8_t* der, size_t n) const {
    return size == n && std::memcmp(start, der, n) == 0;
  }
};

/// Reads the element at `p` (advancing it) if it is DER this reader takes: a one-byte tag and
/// a definite length in its shortest form (at most 3 length bytes; CSRs are capped at 64 KiB).
std::optional<tlv> read(const std::uint8_t*& p, const std::uint8_t* end) {
  if (end - p < 2 || (p[0] & 0x1f) == 0x1f) return std::nullopt;
  tlv t;
  t.start = p;
  t.tag = p[0];
  size_t i = 1;
  size_t len = p[i++];
  if ((len & 0x80) != 0) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 3 || static_cast<size_t>(end - p) < i + n || p[i] == 0) return std::nullopt;
    len = 0;
    for (size_t k = 0; k < n; ++k) len = len << 8 | p[i++];
    if (len < 0x80) return std::nullopt;
  }
  if (static_cast<size_t>(end - p) - i < len) return std::nullopt;
  t.body = p + i;
  t.body_size = len;
  t.size = i + len;
  p += t.size;
  return t;
}

/// The elements of a constructed element's contents, which they must fill exactly.
std::optional<std::vector<tlv>> children(const tlv& parent) {
  std::vector<tlv> out;
  const std::uint8_t* p = parent.body;
  const std::uint8_t* end = parent.body + parent.body_size;
  while (p < end) {
    auto t = read(p, end);
    if (!t) return std::nullopt;
    out.push_back(*t);
  }
  return out;
}

constexpr std::uint8_t oid_ec_public_key[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
constexpr std::uint8_t oid_ext_request[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                            0xf7, 0x0d, 0x01, 0x09, 0x0e};

struct curve {
  std::uint8_t oid[10];
  size_t oid_size;
  const char* group;  ///< OpenSSL's group name
  const char* display;
  int bits;
};
const curve curves[] = {
    {{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 10, "prime256v1", "P-256", 256},
    {{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7, "secp384r1", "P-384", 384},
    {{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, 7, "secp521r1", "P-521", 521},
};

/// ecdsa-with-SHA256/384/512 (RFC 5758 §3.2: no parameters) and their digests.
const EVP_MD* ecdsa_digest(const tlv& algorithm) {
  auto parts = children(algorithm);
  if (!parts || parts->size() != 1) return nullptr;
  static constexpr std::uint8_t prefix[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03};
  const tlv& oid = (*parts)[0];
  if (oid.size != sizeof prefix + 1 || std::memcmp(oid.start, prefix, sizeof prefix) != 0)
    return nullptr;
  switch (oid.start[sizeof prefix]) {
    case 0x02:
      return sha256_md();
    case 0x03:
      return sha384_md();
    case 0x04:
      return sha512_md();
    default:
      return nullptr;
  }
}

/// An EC public key from its curve and point; fromdata refuses points off the curve.
crypto_result<ossl_ptr<EVP_PKEY>> ec_key(const curve& c, const std::uint8_t* point, size_t size) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(c.group), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<std::uint8_t*>(point),
                                        size),
      OSSL_PARAM_construct_end()};
  ossl_ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1)
    return openssl_error("parse CSR: public key");
  return ossl_ptr<EVP_PKEY>(raw);
}

/// The requested extensions (nullptr: none); nullopt for attributes this path leaves to
/// OpenSSL (more than one extension request, or a value set that is not exactly one).
std::optional<ossl_ptr<STACK_OF(X509_EXTENSION)>> requested_extensions(const tlv* attributes) {
  ossl_ptr<STACK_OF(X509_EXTENSION)> out;
  if (attributes == nullptr) return out;
  auto attrs = children(*attributes);
  if (!attrs) return std::nullopt;
  bool seen = false;
  for (const auto& attr : *attrs) {
    auto parts = attr.tag == 0x30 ? children(attr) : std::nullopt;
    if (!parts || parts->size() != 2 || (*parts)[0].tag != 0x06 || (*parts)[1].tag != 0x31)
      return std::nullopt;
    // Other attributes (challengePassword, ...) are not read; Microsoft's extension request
    // is one OpenSSL would read, so such a CSR takes the general path.
    const tlv& type = (*parts)[0];
    if (!type.is(oid_ext_request, sizeof oid_ext_request)) {
      if (type.body_size == 10 &&
          std::memcmp(type.body, "\x2b\x06\x01\x04\x01\x82\x37\x02\x01\x0e", 10) == 0)
        return std::nullopt;
      continue;
    }
    auto values = children((*parts)[1]);
    if (seen || !values || values->size() != 1 || (*values)[0].tag != 0x30) return std::nullopt;
    seen = true;
    const std::uint8_t* q = (*values)[0].start;
    out.reset(d2i_X509_EXTENSIONS(nullptr, &q, static_cast<long>((*values)[0].size)));
    if (!out || q != (*values)[0].start + (*values)[0].size) return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<crypto_result<csr_info>> parse_ec_csr_der(const std::uint8_t* der, size_t size) {
  const std::uint8_t* p = der;
  auto outer = read(p, der + size);
  if (!outer || outer->tag != 0x30 || p != der + size) return std::nullopt;
  auto top = children(*outer);
  if (!top || top->size() != 3 || (*top)[0].tag != 0x30 || (*top)[1].tag != 0x30 ||
      (*top)[2].tag != 0x03)
    return std::nullopt;
  const tlv& info_tlv = (*top)[0];
  const tlv& signature = (*top)[2];
  const EVP_MD* digest = ecdsa_digest((*top)[1]);
  auto fields = children(info_tlv);
  if (digest == nullptr || !fields || fields->size() < 3 || fields->size() > 4) return std::nullopt;
  const tlv& version = (*fields)[0];
  const tlv& subject = (*fields)[1];
  const tlv& spki = (*fields)[2];
  const tlv* attributes = fields->size() == 4 ? &(*fields)[3] : nullptr;
  if (version.tag != 0x02 || version.body_size != 1 || version.body[0] != 0 ||
      subject.tag != 0x30 || spki.tag != 0x30 || (attributes != nullptr && attributes->tag != 0xa0))
    return std::nullopt;

  // SubjectPublicKeyInfo: id-ecPublicKey with a named curve we know, and a whole-byte point.
  auto key_parts = children(spki);
  if (!key_parts || key_parts->size() != 2 || (*key_parts)[0].tag != 0x30 ||
      (*key_parts)[1].tag != 0x03)
    return std::nullopt;
  auto alg = children((*key_parts)[0]);
  if (!alg || alg->size() != 2 || !(*alg)[0].is(oid_ec_public_key, sizeof oid_ec_public_key))
    return std::nullopt;
  const curve* named = nullptr;
  for (const auto& c : curves)
    if ((*alg)[1].is(c.oid, c.oid_size)) named = &c;
  const tlv& bits = (*key_parts)[1];
  if (named == nullptr || bits.body_size < 2 || bits.body[0] != 0) return std::nullopt;
  if (signature.body_size < 2 || signature.body[0] != 0) return std::nullopt;
  auto exts = requested_extensions(attributes);
  if (!exts) return std::nullopt;

  using out_t = std::optional<crypto_result<csr_info>>;
  clear_errors();
  auto key = ec_key(*named, bits.body + 1, bits.body_size - 1);
  if (!key) return out_t(key.error());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  // The signature covers certificationRequestInfo exactly as encoded.
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, digest, nullptr, key->get()) != 1 ||
      EVP_DigestVerify(md.get(), signature.body + 1, signature.body_size - 1, info_tlv.start,
                       info_tlv.size) != 1)
    return out_t(openssl_error("parse CSR: signature does not verify"));
  const std::uint8_t* q = subject.start;
  ossl_ptr<X509_NAME> name(d2i_X509_NAME(nullptr, &q, static_cast<long>(subject.size)));
  if (!name || q != subject.start + subject.size) return std::nullopt;

  csr_info info;
  info.key_algorithm = "ECDSA";
  info.key_bits = named->bits;
  info.key_curve = named->display;
  info.public_key_der.assign(spki.start, spki.start + spki.size);
  info.public_key_sha256_hex =
      to_hex(sha256_of(std::string_view(reinterpret_cast<const char*>(spki.start), spki.size)));
  if (auto named_ok = fill_csr_names(info, name.get(), exts->get()); !named_ok)
    return out_t(named_ok.error());
  clear_errors();
  return out_t(std::move(info));
}

}  // namespace certctl::crypto::detail
