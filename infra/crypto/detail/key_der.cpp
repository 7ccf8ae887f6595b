// Key <-> DER without OpenSSL 3.0's encoder/decoder machinery (see detail/openssl.hpp for why).
// Everything here goes through the ASN.1 templates (X509_PUBKEY, X509_ALGOR, PKCS8_PRIV_KEY_INFO)
// and provider parameters; the only DER written by hand is the tiny ECPrivateKey of RFC 5915.

#include <openssl/core_names.h>
#include <openssl/ec.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto::detail {

namespace {

/// Fetched once per process and never freed: every thread may use them for its lifetime.
template <class T>
T* fetched_or_abort(T* p, const char* name) {
  if (p == nullptr) {
    std::fprintf(stderr, "fatal: OpenSSL cannot fetch %s\n", name);
    std::abort();
  }
  return p;
}

std::string curve_display_name(const std::string& group) {
  if (group == "prime256v1" || group == "P-256") return "P-256";
  if (group == "secp384r1" || group == "P-384") return "P-384";
  if (group == "secp521r1" || group == "P-521") return "P-521";
  return group;
}

/// The key's curve as a NID (NID_undef when it has none OpenSSL knows by name).
int curve_nid(EVP_PKEY* key) {
  char group[80] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return NID_undef;
  const int nid = OBJ_sn2nid(group);
  return nid != NID_undef ? nid : EC_curve_nist2nid(group);
}

/// The public key as the SPKI BIT STRING carries it: the EC point in the key's own format,
/// or the raw Ed25519 key.
crypto_result<bytes> public_octets(EVP_PKEY* key, const char* param) {
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, param, nullptr, 0, &len) != 1 || len == 0)
    return openssl_error("encode public key");
  bytes out(len);
  if (EVP_PKEY_get_octet_string_param(key, param, out.data(), out.size(), &len) != 1)
    return openssl_error("encode public key");
  out.resize(len);
  return out;
}

/// DER of `pub` after setting its algorithm (object and parameter, ownership passed) and key.
crypto_result<bytes> encode_spki(ASN1_OBJECT* algorithm, int param_type, void* param,
                                 const bytes& key_bits) {
  ossl_ptr<X509_PUBKEY> pub(X509_PUBKEY_new());
  auto* bits = static_cast<unsigned char*>(OPENSSL_memdup(key_bits.data(), key_bits.size()));
  if (!pub || bits == nullptr ||
      X509_PUBKEY_set0_param(pub.get(), algorithm, param_type, param, bits,
                             static_cast<int>(key_bits.size())) != 1) {
    OPENSSL_free(bits);
    return openssl_error("encode public key");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(pub.get(), &der);
  if (len <= 0) return openssl_error("encode public key");
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

/// SPKI DER by the templates for EC (named curve) and Ed25519; nullopt: use the encoder.
std::optional<crypto_result<bytes>> fast_spki(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_EC) {
    const int nid = curve_nid(key);
    if (nid == NID_undef) return std::nullopt;
    auto point = public_octets(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
    if (!point) return crypto_result<bytes>(point.error());
    return encode_spki(OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT, OBJ_nid2obj(nid),
                       point.value());
  }
  if (id == EVP_PKEY_ED25519) {
    auto raw = public_octets(key, OSSL_PKEY_PARAM_PUB_KEY);
    if (!raw) return crypto_result<bytes>(raw.error());
    return encode_spki(OBJ_nid2obj(NID_ED25519), V_ASN1_UNDEF, nullptr, raw.value());
  }
  return std::nullopt;
}

/// Appends a DER tag-length-value with a definite (short or long form) length.
void append_tlv(bytes& out, std::uint8_t tag, const bytes& content) {
  out.push_back(tag);
  const size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else if (n <= 0xff) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
  }
  out.insert(out.end(), content.begin(), content.end());
}

/// Zeroes a buffer that held private key material before it is freed.
struct wiped {
  bytes data;
  ~wiped() { OPENSSL_cleanse(data.data(), data.size()); }
};

/// The EC point of a P-256/384/521 group, for on-curve checks; nullptr for other curves.
const EC_GROUP* known_group(int nid) {
  // Built once: EC_GROUP_new_by_curve_name costs far more than the check. Read-only afterwards,
  // which is what lets threads share them.
  static const EC_GROUP* p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  static const EC_GROUP* p384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
  static const EC_GROUP* p521 = EC_GROUP_new_by_curve_name(NID_secp521r1);
  switch (nid) {
    case NID_X9_62_prime256v1:
      return p256;
    case NID_secp384r1:
      return p384;
    case NID_secp521r1:
      return p521;
    default:
      return nullptr;
  }
}

/// Validates a key the general (slow) way: OpenSSL's decoder.
crypto_result<done> decode_check(const bytes& spki_der) {
  auto key = load_public_key(spki_der);
  if (!key) return key.error();
  return done{};
}

}  // namespace

const EVP_MD* sha1_md() {
  static const EVP_MD* md = fetched_or_abort(EVP_MD_fetch(nullptr, "SHA1", nullptr), "SHA1");
  return md;
}
const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetched_or_abort(EVP_MD_fetch(nullptr, "SHA256", nullptr), "SHA256");
  return md;
}
const EVP_MD* sha384_md() {
  static const EVP_MD* md = fetched_or_abort(EVP_MD_fetch(nullptr, "SHA384", nullptr), "SHA384");
  return md;
}
const EVP_MD* sha512_md() {
  static const EVP_MD* md = fetched_or_abort(EVP_MD_fetch(nullptr, "SHA512", nullptr), "SHA512");
  return md;
}
const EVP_CIPHER* aes_256_gcm_cipher() {
  static const EVP_CIPHER* c =
      fetched_or_abort(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr), "AES-256-GCM");
  return c;
}

std::string pem_encode(std::string_view label, const std::uint8_t* der, size_t size) {
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  // 48 input bytes -> one 64-character line, as PEM_write_bio does.
  unsigned char line[65];
  for (size_t at = 0; at < size; at += 48) {
    const int n =
        EVP_EncodeBlock(line, der + at, static_cast<int>(std::min<size_t>(48, size - at)));
    out.append(reinterpret_cast<const char*>(line), static_cast<size_t>(n));
    out += '\n';
  }
  return out + "-----END " + std::string(label) + "-----\n";
}

crypto_result<public_key_info> describe_key(EVP_PKEY* key, const X509_PUBKEY* spki) {
  public_key_info info;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      info.algorithm = "ECDSA";
      char group[80] = {};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1)
        return openssl_error("describe key: EC key without a named curve");
      info.curve = curve_display_name(std::string(group, len));
      info.bits = EVP_PKEY_get_bits(key);
      break;
    }
    case EVP_PKEY_RSA:
      info.algorithm = "RSA";
      info.bits = EVP_PKEY_get_bits(key);
      break;
    case EVP_PKEY_ED25519:
      info.algorithm = "Ed25519";
      info.bits = 256;
      break;
    default: {
      const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
      return crypto_error{std::string("unsupported public key algorithm ") +
                          (name != nullptr ? name : "unknown") +
                          " (supported: ECDSA, RSA, Ed25519)"};
    }
  }
  if (spki != nullptr) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(spki, &der);
    if (len <= 0) return openssl_error("describe key: encode public key");
    ossl_ptr<unsigned char> owned(der);
    info.spki_der.assign(der, der + len);
  } else if (auto fast = fast_spki(key)) {
    if (!fast->ok()) return fast->error();
    info.spki_der = std::move(*fast).value();
  } else {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key, &der);  // RSA: the encoder (RSA keygen dwarfs it anyway)
    if (len <= 0) return openssl_error("describe key: encode public key");
    ossl_ptr<unsigned char> owned(der);
    info.spki_der.assign(der, der + len);
  }
  info.sha256_hex = to_hex(sha256_of(
      std::string_view(reinterpret_cast<const char*>(info.spki_der.data()), info.spki_der.size())));
  return info;
}

crypto_result<public_key_info> describe_key(EVP_PKEY* key) {
  return describe_key(key, nullptr);
}

crypto_result<spki_summary> set_spki(X509_PUBKEY* dst, const bytes& spki_der) {
  clear_errors();
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT
  // STRING }, read as a generic sequence so the key itself is not decoded.
  const unsigned char* p = spki_der.data();
  ossl_ptr<ASN1_SEQUENCE_ANY> seq(
      d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!seq || p != spki_der.data() + spki_der.size() || sk_ASN1_TYPE_num(seq.get()) != 2)
    return openssl_error("parse public key: not a SubjectPublicKeyInfo");
  const ASN1_TYPE* alg_any = sk_ASN1_TYPE_value(seq.get(), 0);
  const ASN1_TYPE* bits_any = sk_ASN1_TYPE_value(seq.get(), 1);
  if (ASN1_TYPE_get(alg_any) != V_ASN1_SEQUENCE || ASN1_TYPE_get(bits_any) != V_ASN1_BIT_STRING)
    return crypto_error{"parse public key: not a SubjectPublicKeyInfo"};
  const ASN1_STRING* alg_der = alg_any->value.sequence;  // the whole TLV
  const unsigned char* q = ASN1_STRING_get0_data(alg_der);
  ossl_ptr<X509_ALGOR> alg(d2i_X509_ALGOR(nullptr, &q, ASN1_STRING_length(alg_der)));
  if (!alg) return openssl_error("parse public key: algorithm");
  const ASN1_BIT_STRING* bits = bits_any->value.bit_string;
  if ((bits->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bits->flags & 0x07) != 0)
    return crypto_error{"parse public key: key is not a whole number of bytes"};
  const unsigned char* key = ASN1_STRING_get0_data(bits);
  spki_summary out;
  out.public_bits.assign(key, key + ASN1_STRING_length(bits));

  const ASN1_OBJECT* obj = nullptr;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg.get());
  switch (OBJ_obj2nid(obj)) {
    case NID_X9_62_id_ecPublicKey: {
      out.base_id = EVP_PKEY_EC;
      if (ptype != V_ASN1_OBJECT)
        return crypto_error{"parse public key: EC key without a named curve"};
      const EC_GROUP* group = known_group(OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval)));
      if (group == nullptr) {
        if (auto c = decode_check(spki_der); !c) return c.error();
        break;
      }
      // EC_POINT_oct2point refuses points that are not on the curve.
      std::unique_ptr<EC_POINT, decltype(&EC_POINT_free)> pt(EC_POINT_new(group), EC_POINT_free);
      if (!pt || EC_POINT_oct2point(group, pt.get(), out.public_bits.data(), out.public_bits.size(),
                                    nullptr) != 1)
        return openssl_error("parse public key: EC point");
      break;
    }
    case NID_rsaEncryption:
    case NID_ED25519:
      out.base_id = OBJ_obj2nid(obj) == NID_rsaEncryption ? EVP_PKEY_RSA : EVP_PKEY_ED25519;
      if (auto c = decode_check(spki_der); !c) return c.error();
      break;
    default: {
      const char* name = OBJ_nid2sn(OBJ_obj2nid(obj));
      return crypto_error{std::string("unsupported public key algorithm ") +
                          (name != nullptr ? name : "unknown") +
                          " (supported: ECDSA, RSA, Ed25519)"};
    }
  }
  // X509_PUBKEY_set0_param takes ownership of what it is given: hand it copies.
  ASN1_OBJECT* param_obj = nullptr;
  ASN1_STRING* param_str = nullptr;
  void* param = nullptr;
  if (ptype == V_ASN1_OBJECT) {
    param = param_obj = OBJ_dup(static_cast<const ASN1_OBJECT*>(pval));
  } else if (ptype == V_ASN1_SEQUENCE) {
    param = param_str = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(pval));
  } else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
    return crypto_error{"parse public key: unexpected algorithm parameters"};
  }
  ASN1_OBJECT* alg_obj = OBJ_dup(obj);
  auto* key_copy = static_cast<unsigned char*>(
      OPENSSL_memdup(out.public_bits.data(), std::max<size_t>(1, out.public_bits.size())));
  const bool param_missing = (ptype == V_ASN1_OBJECT && param_obj == nullptr) ||
                             (ptype == V_ASN1_SEQUENCE && param_str == nullptr);
  if (alg_obj == nullptr || key_copy == nullptr || param_missing ||
      X509_PUBKEY_set0_param(dst, alg_obj, ptype, param, key_copy,
                             static_cast<int>(out.public_bits.size())) != 1) {
    ASN1_OBJECT_free(alg_obj);
    ASN1_OBJECT_free(param_obj);
    ASN1_STRING_free(param_str);
    OPENSSL_free(key_copy);
    return openssl_error("set public key");
  }
  return out;
}

std::optional<crypto_result<std::string>> ec_private_key_pem(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return std::nullopt;
  const int nid = curve_nid(key);
  if (nid == NID_undef) return std::nullopt;
  using out_t = crypto_result<std::string>;
  auto point = public_octets(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
  if (!point) return out_t(point.error());
  BIGNUM* raw_priv = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &raw_priv) != 1)
    return out_t(openssl_error("encode private key"));
  std::unique_ptr<BIGNUM, decltype(&BN_clear_free)> priv(raw_priv, BN_clear_free);
  // The scalar is padded to the group order's length, as OpenSSL writes it.
  wiped scalar{bytes(static_cast<size_t>((EVP_PKEY_get_bits(key) + 7) / 8))};
  if (BN_bn2binpad(priv.get(), scalar.data.data(), static_cast<int>(scalar.data.size())) < 0)
    return out_t(openssl_error("encode private key"));

  // RFC 5915 ECPrivateKey { version 1, privateKey, [1] publicKey }; the curve ([0]) is left
  // out because the PKCS#8 algorithm identifier names it (OpenSSL does the same).
  wiped body, ec_key;
  body.data = {0x02, 0x01, 0x01};
  append_tlv(body.data, 0x04, scalar.data);
  bytes bit_string{0x00};
  bit_string.insert(bit_string.end(), point.value().begin(), point.value().end());
  bytes public_bits;
  append_tlv(public_bits, 0x03, bit_string);
  append_tlv(body.data, 0xa1, public_bits);
  append_tlv(ec_key.data, 0x30, body.data);

  ossl_ptr<PKCS8_PRIV_KEY_INFO> p8(PKCS8_PRIV_KEY_INFO_new());
  auto* enc = static_cast<unsigned char*>(OPENSSL_memdup(ec_key.data.data(), ec_key.data.size()));
  if (!p8 || enc == nullptr ||
      PKCS8_pkey_set0(p8.get(), OBJ_nid2obj(NID_X9_62_id_ecPublicKey), 0, V_ASN1_OBJECT,
                      OBJ_nid2obj(nid), enc, static_cast<int>(ec_key.data.size())) != 1) {
    OPENSSL_clear_free(enc, ec_key.data.size());
    return out_t(openssl_error("encode private key"));
  }
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der);
  if (len <= 0) return out_t(openssl_error("encode private key"));
  std::string pem = pem_encode("PRIVATE KEY", der, static_cast<size_t>(len));
  OPENSSL_clear_free(der, static_cast<size_t>(len));
  return out_t(std::move(pem));
}

}  // namespace certctl::crypto::detail
