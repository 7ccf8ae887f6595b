#include "infra/crypto/jwt.hpp"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "infra/crypto/detail/jose_json.hpp"
#include "infra/crypto/detail/openssl.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct bld_free {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct params_free {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

crypto_error err(std::string m) {
  return crypto_error{std::move(m)};
}

std::string member(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string json_string(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return {buf.GetString(), buf.GetSize()};
}

std::string to_string(const bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// PBKDF2-HMAC-SHA256 key for PBES2-HS256+A128KW: salt = alg || 0x00 || p2s (RFC 7518 §4.8.1.1).
crypto_result<bytes> pbes2_kek(std::string_view password, const std::string& p2s, int p2c) {
  std::string salt = "PBES2-HS256+A128KW";
  salt.push_back('\0');
  salt += p2s;
  bytes kek(16);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), p2c, EVP_sha256(), 16, kek.data()) != 1)
    return detail::openssl_error("PBES2 key derivation");
  return kek;
}

/// AES key wrap (RFC 3394) with a 128-bit KEK, either direction.
crypto_result<bytes> aes_kw(const bytes& kek, const bytes& in, bool wrap) {
  ossl_ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  bytes out(in.size() + 16);
  int n = 0, m = 0;
  if (ctx) EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  const EVP_CIPHER* c = EVP_aes_128_wrap();
  const bool ok =
      ctx && EVP_CipherInit_ex(ctx.get(), c, nullptr, kek.data(), nullptr, wrap ? 1 : 0) == 1 &&
      EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) == 1 &&
      EVP_CipherFinal_ex(ctx.get(), out.data() + n, &m) == 1;
  if (!ok) return detail::openssl_error(wrap ? "AES key wrap" : "AES key unwrap (wrong password?)");
  out.resize(static_cast<size_t>(n + m));
  return out;
}

crypto_result<bytes> decode_part(std::string_view part, const char* what) {
  auto d = base64url_decode(part);
  if (!d) return err(std::string("JWE: ") + what + " is not base64url");
  return bytes(d->begin(), d->end());
}

}  // namespace

crypto_result<std::string> sign_compact_jws(std::string_view private_key_pem, std::string_view kid,
                                            std::string_view payload) {
  auto key = detail::load_private_key(private_key_pem, {});
  if (!key) return key.error();
  auto pub = jwk_of_private_key(private_key_pem);
  if (!pub) return pub.error();
  std::string alg = "RS256";
  size_t ec_len = 0;
  const EVP_MD* md = EVP_sha256();
  if (pub->kty == "OKP") {
    alg = "EdDSA";
    md = nullptr;
  } else if (pub->kty == "EC") {
    alg = pub->crv == "P-256" ? "ES256" : "ES384";
    ec_len = pub->crv == "P-256" ? 32 : 48;
    if (ec_len == 48) md = EVP_sha384();
  }
  std::string header = "{\"alg\":\"" + alg + "\"";
  if (!kid.empty()) header += ",\"kid\":" + json_string(kid);
  header += ",\"typ\":\"JWT\"}";
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* tbs = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, tbs, input.size()) != 1)
    return detail::openssl_error("sign JWT");
  bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, tbs, input.size()) != 1)
    return detail::openssl_error("sign JWT");
  sig.resize(len);
  if (ec_len > 0) {
    // JWS carries r || s at the curve's size (RFC 7518 §3.4); OpenSSL produced DER.
    const unsigned char* p = sig.data();
    std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> parsed(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    bytes raw(ec_len * 2);
    if (!parsed ||
        BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), raw.data(), static_cast<int>(ec_len)) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), raw.data() + ec_len,
                     static_cast<int>(ec_len)) < 0)
      return detail::openssl_error("sign JWT: ECDSA signature");
    sig = std::move(raw);
  }
  return input + "." + base64url_encode(sig);
}

crypto_result<compact_jws> verify_compact_jws(std::string_view token, const jwk& key) {
  if (token.size() > max_compact_token) return err("JWT: token too large");
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos)
    return err("JWT: not three dot-separated parts");
  auto header = base64url_decode(token.substr(0, a));
  auto payload = base64url_decode(token.substr(a + 1, b - a - 1));
  auto sig = base64url_decode(token.substr(b + 1));
  if (!header || !payload || !sig) return err("JWT: a part is not base64url");
  rapidjson::Document h;
  std::string why;
  if (!detail::parse_strict_object(*header, h, why)) return err("JWT header: " + why);
  parsed_jws p;
  p.header.alg = member(h, "alg");
  p.signing_input = std::string(token.substr(0, b));
  p.signature = bytes(sig->begin(), sig->end());
  p.payload = *payload;
  if (auto ok = verify_jws(p, key); !ok) return err("JWT: " + ok.error().message);
  return compact_jws{*header, *payload};
}

crypto_result<std::string> private_key_pem_of_jwk(std::string_view jwk_json) {
  rapidjson::Document d;
  std::string why;
  if (jwk_json.size() > max_jwk_json || !detail::parse_strict_object(jwk_json, d, why))
    return err("private JWK: " + (why.empty() ? std::string("too large") : why));
  const std::string kty = member(d, "kty"), crv = member(d, "crv");
  auto dd = base64url_decode(member(d, "d"));
  auto x = base64url_decode(member(d, "x"));
  if (!dd || dd->empty() || !x || x->empty()) return err("private JWK: needs d and x");
  ossl_ptr<EVP_PKEY> pkey;
  if (kty == "OKP" && crv == "Ed25519") {
    pkey.reset(EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(dd->data()), dd->size()));
    if (!pkey) return detail::openssl_error("private JWK: Ed25519 key");
  } else if (kty == "EC" && (crv == "P-256" || crv == "P-384")) {
    auto y = base64url_decode(member(d, "y"));
    const size_t len = crv == "P-256" ? 32 : 48;
    if (!y || x->size() != len || y->size() != len || dd->size() != len)
      return err("private JWK: x, y and d must be " + std::to_string(len) + " bytes");
    std::string point = std::string(1, '\x04') + *x + *y;
    ossl_ptr<BIGNUM> priv(BN_bin2bn(reinterpret_cast<const unsigned char*>(dd->data()),
                                    static_cast<int>(len), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, bld_free> bld(OSSL_PARAM_BLD_new());
    const char* group = crv == "P-256" ? "prime256v1" : "secp384r1";
    if (!priv || !bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1)
      return detail::openssl_error("private JWK: EC parameters");
    std::unique_ptr<OSSL_PARAM, params_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
    ossl_ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1)
      return detail::openssl_error("private JWK: EC key");
    pkey.reset(raw);
    // The public point must belong to d, or a key pasted together from two keys would sign
    // tokens the CA cannot verify; check it here, where the message can say why.
    ossl_ptr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new(pkey.get(), nullptr));
    if (!check || EVP_PKEY_pairwise_check(check.get()) != 1)
      return detail::openssl_error("private JWK: x/y do not match d");
  } else {
    return err("private JWK: only EC P-256/P-384 and OKP Ed25519 keys are supported");
  }
  ossl_ptr<BIO> out(BIO_new(BIO_s_mem()));
  if (!out ||
      PEM_write_bio_PrivateKey(out.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return detail::openssl_error("private JWK: PEM encoding");
  return detail::bio_contents(out.get());
}

crypto_result<std::string> decrypt_pbes2_jwe(std::string_view jwe, std::string_view password) {
  if (jwe.size() > max_compact_token) return err("JWE: too large");
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = jwe.find('.', start);
    parts.push_back(jwe.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 5) return err("JWE: not five dot-separated parts");
  auto header = base64url_decode(parts[0]);
  if (!header) return err("JWE: header is not base64url");
  rapidjson::Document h;
  std::string why;
  if (!detail::parse_strict_object(*header, h, why)) return err("JWE header: " + why);
  if (member(h, "alg") != "PBES2-HS256+A128KW" || member(h, "enc") != "A128GCM")
    return err(
        "JWE: only alg PBES2-HS256+A128KW with enc A128GCM is supported (as step-ca writes)");
  auto p2s = base64url_decode(member(h, "p2s"));
  auto p2c = h.FindMember("p2c");
  if (!p2s || p2s->empty() || p2c == h.MemberEnd() || !p2c->value.IsInt() ||
      p2c->value.GetInt() < 1 || p2c->value.GetInt() > 1000000)
    return err("JWE: p2s and p2c (1..1000000) are required");
  auto kek = pbes2_kek(password, *p2s, p2c->value.GetInt());
  if (!kek) return kek.error();
  auto wrapped = decode_part(parts[1], "encrypted key");
  auto iv = decode_part(parts[2], "iv");
  auto ct = decode_part(parts[3], "ciphertext");
  auto tag = decode_part(parts[4], "tag");
  if (!wrapped || !iv || !ct || !tag) return err("JWE: a part is not base64url");
  if (iv->size() != 12 || tag->size() != 16) return err("JWE: iv or tag of the wrong size");
  auto cek = aes_kw(*kek, *wrapped, false);
  if (!cek) return cek.error();
  if (cek->size() != 16) return err("JWE: content key of the wrong size");
  ossl_ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  bytes out(ct->size() + 16);
  int n = 0, m = 0, a = 0;
  const std::string aad(parts[0]);  // the protected header as sent (RFC 7516 §5.2 step 14)
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, cek->data(), iv->data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &a, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out.data(), &n, ct->data(), static_cast<int>(ct->size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag->data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out.data() + n, &m) == 1;
  detail::clear_errors();
  if (!ok) return err("JWE: decryption failed (wrong password or corrupted key)");
  out.resize(static_cast<size_t>(n + m));
  return to_string(out);
}

crypto_result<std::string> encrypt_pbes2_jwe(std::string_view plaintext, std::string_view password,
                                             int iterations) {
  const bytes salt = random_bytes(16), cek = random_bytes(16), iv = random_bytes(12);
  const std::string header =
      "{\"alg\":\"PBES2-HS256+A128KW\",\"cty\":\"jwk+json\",\"enc\":\"A128GCM\",\"p2c\":" +
      std::to_string(iterations) + ",\"p2s\":\"" + base64url_encode(salt) + "\"}";
  const std::string header_b64 = base64url_encode(header);
  auto kek = pbes2_kek(password, to_string(salt), iterations);
  if (!kek) return kek.error();
  auto wrapped = aes_kw(*kek, cek, true);
  if (!wrapped) return wrapped.error();
  ossl_ptr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  bytes out(plaintext.size() + 16), tag(16);
  int n = 0, m = 0, a = 0;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, cek.data(), iv.data()) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &a,
                        reinterpret_cast<const unsigned char*>(header_b64.data()),
                        static_cast<int>(header_b64.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out.data(), &n,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &m) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
  if (!ok) return detail::openssl_error("JWE encryption");
  out.resize(static_cast<size_t>(n + m));
  return header_b64 + "." + base64url_encode(*wrapped) + "." + base64url_encode(iv) + "." +
         base64url_encode(out) + "." + base64url_encode(tag);
}

}  // namespace certctl::crypto
