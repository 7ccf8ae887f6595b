#include "infra/crypto/jwk.hpp"

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "infra/crypto/detail/jose_json.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode(std::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const unsigned v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

int url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

crypto_error jwk_error(const std::string& why) {
  return crypto_error{"parse JWK: " + why};
}

/// A required base64url member of the JWK object, decoded.
crypto_result<std::string> member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString())
    return jwk_error(std::string("member '") + name + "' is missing or not a string");
  auto decoded = base64url_decode({it->value.GetString(), it->value.GetStringLength()});
  if (!decoded || decoded->empty())
    return jwk_error(std::string("member '") + name + "' is not base64url");
  return *decoded;
}

/// The DER SubjectPublicKeyInfo of a key built from parameters.
crypto_result<bytes> spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return detail::openssl_error("parse JWK: encode public key");
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + n);
}

struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

/// Builds a public key of `type` ("RSA", "EC") from OSSL parameters filled by `fill`.
template <class Fill>
crypto_result<ossl_ptr<EVP_PKEY>> from_params(const char* type, Fill fill) {
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || !fill(bld.get())) return detail::openssl_error("parse JWK: build parameters");
  std::unique_ptr<OSSL_PARAM, param_bld_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
  ossl_ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    return detail::openssl_error("parse JWK: not a valid public key");
  ossl_ptr<EVP_PKEY> key(raw);
  ossl_ptr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) <= 0)
    return detail::openssl_error("parse JWK: public key check failed");
  return key;
}

}  // namespace

std::string base64url_encode(std::string_view data) {
  return encode(data, url_alphabet, false);
}

std::string base64_encode(std::string_view data) {
  return encode(data, std_alphabet, true);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6 | static_cast<unsigned>(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero, or two strings would decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

crypto_result<jwk> parse_jwk(std::string_view json) {
  if (json.size() > max_jwk_json) return jwk_error("larger than " + std::to_string(max_jwk_json));
  rapidjson::Document doc;
  std::string why;
  if (!detail::parse_strict_object(json, doc, why)) return jwk_error(why);
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
    if (doc.HasMember(priv)) return jwk_error(std::string("private member '") + priv + "' present");
  auto kty_it = doc.FindMember("kty");
  if (kty_it == doc.MemberEnd() || !kty_it->value.IsString())
    return jwk_error("member 'kty' is missing or not a string");
  jwk out;
  out.kty = kty_it->value.GetString();
  const auto b64 = [&](const char* name) { return std::string(doc[name].GetString()); };
  ossl_ptr<EVP_PKEY> key;
  if (out.kty == "RSA") {
    auto n = member(doc, "n");
    auto e = member(doc, "e");
    if (!n) return n.error();
    if (!e) return e.error();
    ossl_ptr<BIGNUM> bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                                    static_cast<int>(n->size()), nullptr));
    ossl_ptr<BIGNUM> bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                                    static_cast<int>(e->size()), nullptr));
    if (!bn_n || !bn_e) return detail::openssl_error("parse JWK: RSA parameters");
    out.bits = BN_num_bits(bn_n.get());
    if (out.bits < 2048 || out.bits > 8192)
      return jwk_error("RSA modulus of " + std::to_string(out.bits) +
                       " bits (2048..8192 accepted)");
    if (!BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2 || BN_num_bits(bn_e.get()) > 32)
      return jwk_error("RSA exponent is not acceptable");
    auto made = from_params("RSA", [&](OSSL_PARAM_BLD* b) {
      return OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
             OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1;
    });
    if (!made) return made.error();
    key = std::move(made).value();
    out.canonical_json = "{\"e\":\"" + b64("e") + "\",\"kty\":\"RSA\",\"n\":\"" + b64("n") + "\"}";
  } else if (out.kty == "EC" || out.kty == "OKP") {
    auto crv_it = doc.FindMember("crv");
    if (crv_it == doc.MemberEnd() || !crv_it->value.IsString())
      return jwk_error("member 'crv' is missing or not a string");
    out.crv = crv_it->value.GetString();
    auto x = member(doc, "x");
    if (!x) return x.error();
    if (out.kty == "OKP") {
      if (out.crv != "Ed25519") return jwk_error("OKP curve '" + out.crv + "' (Ed25519 accepted)");
      if (x->size() != 32) return jwk_error("Ed25519 key is not 32 bytes");
      key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                            reinterpret_cast<const unsigned char*>(x->data()), 32));
      if (!key) return detail::openssl_error("parse JWK: Ed25519 key");
      out.bits = 256;
      out.canonical_json = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + b64("x") + "\"}";
    } else {
      const char* group = out.crv == "P-256"   ? "prime256v1"
                          : out.crv == "P-384" ? "secp384r1"
                                               : nullptr;
      if (group == nullptr) return jwk_error("EC curve '" + out.crv + "' (P-256, P-384 accepted)");
      const size_t len = out.crv == "P-256" ? 32 : 48;
      auto y = member(doc, "y");
      if (!y) return y.error();
      // RFC 7518 §6.2.1.2: coordinates are exactly the field size, leading zeros included.
      if (x->size() != len || y->size() != len) return jwk_error("EC coordinates of wrong length");
      const std::string point = std::string(1, '\x04') + *x + *y;
      auto made = from_params("EC", [&](OSSL_PARAM_BLD* b) {
        return OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
               OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                                point.size()) == 1;
      });
      if (!made) return made.error();
      key = std::move(made).value();
      out.bits = static_cast<int>(len * 8);
      out.canonical_json = "{\"crv\":\"" + out.crv + "\",\"kty\":\"EC\",\"x\":\"" + b64("x") +
                           "\",\"y\":\"" + b64("y") + "\"}";
    }
  } else {
    return jwk_error("key type '" + out.kty + "' (RSA, EC, OKP accepted)");
  }
  auto spki = spki_of(key.get());
  if (!spki) return spki.error();
  out.spki_der = std::move(spki).value();
  const auto digest = sha256_of(out.canonical_json);
  out.thumbprint = base64url_encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return out;
}

crypto_result<jwk> jwk_of_spki(const bytes& spki_der) {
  auto key = detail::load_public_key(spki_der);
  if (!key) return key.error();
  EVP_PKEY* k = key->get();
  const auto bn_member = [&](const char* param, size_t pad, std::string& out) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(k, param, &raw) != 1) return false;
    ossl_ptr<BIGNUM> bn(raw);
    std::string buf(pad > 0 ? pad : static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
    auto* p = reinterpret_cast<unsigned char*>(buf.data());
    if (BN_bn2binpad(bn.get(), p, static_cast<int>(buf.size())) < 0) return false;
    out = base64url_encode(buf);
    return true;
  };
  std::string json;
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA: {
      std::string n, e;
      if (!bn_member(OSSL_PKEY_PARAM_RSA_N, 0, n) || !bn_member(OSSL_PKEY_PARAM_RSA_E, 0, e))
        return detail::openssl_error("JWK of key: RSA parameters");
      json = "{\"e\":\"" + e + "\",\"kty\":\"RSA\",\"n\":\"" + n + "\"}";
      break;
    }
    case EVP_PKEY_EC: {
      char group[64] = {0};
      if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         nullptr) != 1)
        return detail::openssl_error("JWK of key: EC group");
      const std::string g = group;
      const char* crv = g == "prime256v1" ? "P-256" : g == "secp384r1" ? "P-384" : nullptr;
      if (crv == nullptr) return crypto_error{"JWK of key: unsupported EC group " + g};
      const size_t len = g == "prime256v1" ? 32 : 48;
      std::string x, y;
      if (!bn_member(OSSL_PKEY_PARAM_EC_PUB_X, len, x) ||
          !bn_member(OSSL_PKEY_PARAM_EC_PUB_Y, len, y))
        return detail::openssl_error("JWK of key: EC point");
      json = std::string("{\"crv\":\"") + crv + "\",\"kty\":\"EC\",\"x\":\"" + x + "\",\"y\":\"" +
             y + "\"}";
      break;
    }
    case EVP_PKEY_ED25519: {
      unsigned char raw[32];
      size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 || len != 32)
        return detail::openssl_error("JWK of key: Ed25519 key");
      json = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" +
             base64url_encode(std::string_view(reinterpret_cast<const char*>(raw), len)) + "\"}";
      break;
    }
    default:
      return crypto_error{"JWK of key: unsupported key type"};
  }
  return parse_jwk(json);
}

crypto_result<jwk> jwk_of_private_key(std::string_view private_key_pem) {
  auto key = detail::load_private_key(private_key_pem, {});
  if (!key) return key.error();
  auto info = detail::describe_key(key->get());
  if (!info) return info.error();
  return jwk_of_spki(info->spki_der);
}

}  // namespace certctl::crypto
