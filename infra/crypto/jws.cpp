#include "infra/crypto/jws.hpp"

#include <openssl/ecdsa.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

#include "infra/crypto/detail/jose_json.hpp"
#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

jws_error malformed(std::string m) {
  return {jws_errc::malformed, std::move(m)};
}

struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, ecdsa_sig_free>;
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;

/// A required string member; nullopt when absent or of another type.
std::optional<std::string> string_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

/// The digest an alg signs with; nullptr for EdDSA (which hashes internally).
const EVP_MD* digest_of(const std::string& alg) {
  if (alg == "ES384") return detail::sha384_md();
  if (alg == "EdDSA") return nullptr;
  return detail::sha256_md();
}

/// JWS ECDSA signatures are r || s at the curve's size (RFC 7518 §3.4); OpenSSL wants DER.
std::optional<bytes> ecdsa_raw_to_der(const bytes& raw) {
  const size_t half = raw.size() / 2;
  ecdsa_sig_ptr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) return std::nullopt;
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + n);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

const char* to_string(jws_errc c) {
  switch (c) {
    case jws_errc::malformed:
      return "malformed";
    case jws_errc::bad_signature_algorithm:
      return "badSignatureAlgorithm";
    case jws_errc::bad_public_key:
      return "badPublicKey";
    case jws_errc::bad_signature:
      return "badSignature";
  }
  return "malformed";
}

const char* supported_jws_algorithms() {
  return "RS256 ES256 ES384 EdDSA";
}

jws_result<parsed_jws> parse_jws(std::string_view body, const jws_limits& limits, jws_use use) {
  if (body.size() > limits.max_body)
    return malformed("request body of " + std::to_string(body.size()) + " bytes exceeds the " +
                     std::to_string(limits.max_body) + " byte limit");
  rapidjson::Document doc;
  std::string why;
  if (!detail::parse_strict_object(body, doc, why)) return malformed("JWS: " + why);
  if (doc.HasMember("signatures")) return malformed("JWS: general serialization is not accepted");
  if (doc.HasMember("header")) return malformed("JWS: an unprotected header is not allowed");
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (name != "protected" && name != "payload" && name != "signature")
      return malformed("JWS: unexpected member '" + std::string(name) + "'");
  }
  const auto prot_b64 = string_member(doc, "protected");
  const auto payload_b64 = string_member(doc, "payload");
  const auto sig_b64 = string_member(doc, "signature");
  if (!prot_b64 || !payload_b64 || !sig_b64)
    return malformed("JWS: 'protected', 'payload' and 'signature' must be strings");

  parsed_jws out;
  auto prot = base64url_decode(*prot_b64);
  if (!prot || prot->empty()) return malformed("JWS: 'protected' is not base64url");
  if (prot->size() > limits.max_protected) return malformed("JWS: protected header too large");
  auto payload = base64url_decode(*payload_b64);
  if (!payload) return malformed("JWS: 'payload' is not base64url");
  auto sig = base64url_decode(*sig_b64);
  if (!sig || sig->empty()) return malformed("JWS: 'signature' is not base64url");
  if (sig->size() > limits.max_signature_bytes) return malformed("JWS: signature too large");
  out.payload = std::move(*payload);
  out.post_as_get = payload_b64->empty();
  out.signing_input = *prot_b64 + "." + *payload_b64;
  out.signature.assign(sig->begin(), sig->end());

  rapidjson::Document header;
  if (!detail::parse_strict_object(*prot, header, why))
    return malformed("JWS protected header: " + why);
  // Nothing we accept defines critical extensions, so any "crit" must be refused (RFC 7515
  // §4.1.11); "b64": false would change what is signed (RFC 7797).
  if (header.HasMember("crit")) return malformed("JWS protected header: 'crit' is not supported");
  if (header.HasMember("b64")) return malformed("JWS protected header: 'b64' is not supported");
  auto alg = string_member(header, "alg");
  if (!alg) return malformed("JWS protected header: 'alg' is missing");
  out.header.alg = *alg;
  if (*alg != "RS256" && *alg != "ES256" && *alg != "ES384" && *alg != "EdDSA")
    return jws_error{jws_errc::bad_signature_algorithm,
                     "JWS algorithm '" + *alg +
                         "' is not supported (accepted: " + supported_jws_algorithms() + ")"};
  const bool inner = use == jws_use::key_change_inner;
  auto nonce = string_member(header, "nonce");
  if (inner && header.HasMember("nonce"))
    return malformed("inner JWS protected header: 'nonce' must be omitted");
  if (!inner && (!nonce || nonce->empty()))
    return malformed("JWS protected header: 'nonce' is missing");
  auto url = string_member(header, "url");
  if (!url || url->empty()) return malformed("JWS protected header: 'url' is missing");
  out.header.nonce = nonce.value_or("");
  out.header.url = *url;
  const bool has_jwk = header.HasMember("jwk"), has_kid = header.HasMember("kid");
  if (inner && !has_jwk) return malformed("inner JWS protected header: 'jwk' is required");
  if (has_jwk == has_kid)
    return malformed("JWS protected header: exactly one of 'jwk' and 'kid' is required");
  if (has_kid) {
    auto kid = string_member(header, "kid");
    if (!kid || kid->empty()) return malformed("JWS protected header: 'kid' is not a string");
    out.header.kid = *kid;
  } else {
    const auto& v = header["jwk"];
    if (!v.IsObject()) return malformed("JWS protected header: 'jwk' is not an object");
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    auto key = parse_jwk({buf.GetString(), buf.GetSize()});
    if (!key) return jws_error{jws_errc::bad_public_key, key.error().message};
    out.header.key = std::move(key).value();
  }
  return out;
}

namespace {

/// The header's alg must suit the key's type and size.
jws_result<done> check_alg(const parsed_jws& jws, const jwk& key) {
  const std::string& alg = jws.header.alg;
  const bool fits = (alg == "RS256" && key.kty == "RSA") ||
                    (alg == "ES256" && key.kty == "EC" && key.crv == "P-256") ||
                    (alg == "ES384" && key.kty == "EC" && key.crv == "P-384") ||
                    (alg == "EdDSA" && key.kty == "OKP" && key.crv == "Ed25519");
  if (!fits)
    return jws_error{
        jws_errc::bad_signature_algorithm,
        "JWS algorithm '" + alg + "' does not match the " + key.kty + " " + key.crv + " key"};
  return done{};
}

/// The signature check proper, with `key` already loaded as `pkey`.
jws_result<done> verify_loaded(const parsed_jws& jws, const jwk& key, EVP_PKEY* pkey) {
  if (auto fits = check_alg(jws, key); !fits) return fits;
  bytes sig = jws.signature;
  if (key.kty == "EC") {
    const size_t want = key.crv == "P-256" ? 64 : 96;
    if (sig.size() != want) return jws_error{jws_errc::bad_signature, "JWS signature length"};
    auto der = ecdsa_raw_to_der(sig);
    if (!der) return jws_error{jws_errc::bad_signature, "JWS signature is not valid"};
    sig = std::move(*der);
  }
  detail::clear_errors();
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  const auto* tbs = reinterpret_cast<const unsigned char*>(jws.signing_input.data());
  const bool ok =
      ctx &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, digest_of(jws.header.alg), nullptr, pkey) == 1 &&
      EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), tbs, jws.signing_input.size()) == 1;
  detail::clear_errors();
  if (!ok) return jws_error{jws_errc::bad_signature, "JWS signature verification failed"};
  return done{};
}

std::shared_ptr<void> share(ossl_ptr<EVP_PKEY> key) {
  return std::shared_ptr<void>(key.release(),
                               [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
}

}  // namespace

jws_result<done> verify_jws(const parsed_jws& jws, const jwk& key) {
  if (auto fits = check_alg(jws, key); !fits) return fits;
  auto pkey = detail::load_public_key(key.spki_der);
  if (!pkey) return jws_error{jws_errc::bad_public_key, pkey.error().message};
  return verify_loaded(jws, key, pkey->get());
}

jws_result<std::shared_ptr<const jws_verifier>> jws_verifier::make(jwk key) {
  auto pkey = detail::load_public_key(key.spki_der);
  if (!pkey) return jws_error{jws_errc::bad_public_key, pkey.error().message};
  return std::shared_ptr<const jws_verifier>(
      new jws_verifier(std::move(key), share(std::move(pkey).value())));
}

jws_result<done> jws_verifier::verify(const parsed_jws& jws) const {
  return verify_loaded(jws, key_, static_cast<EVP_PKEY*>(pkey_.get()));
}

crypto_result<std::string> sign_jws(std::string_view private_key_pem, std::string_view nonce,
                                    std::string_view url, std::string_view kid,
                                    std::string_view payload, std::string_view extra_header_json) {
  auto signer = jws_signer::make(private_key_pem);
  if (!signer) return signer.error();
  return (*signer)->sign(nonce, url, kid, payload, extra_header_json);
}

crypto_result<std::shared_ptr<const jws_signer>> jws_signer::make(
    std::string_view private_key_pem) {
  auto key = detail::load_private_key(private_key_pem, {});
  if (!key) return key.error();
  auto pub = jwk_of_private_key(private_key_pem);
  if (!pub) return pub.error();
  return std::shared_ptr<const jws_signer>(
      new jws_signer(std::move(pub).value(), share(std::move(key).value())));
}

crypto_result<std::string> jws_signer::sign(std::string_view nonce, std::string_view url,
                                            std::string_view kid, std::string_view payload,
                                            std::string_view extra_header_json) const {
  const jwk* pub = &pub_;
  auto* pkey = static_cast<EVP_PKEY*>(pkey_.get());
  std::string alg;
  size_t ec_len = 0;
  if (pub->kty == "RSA") {
    alg = "RS256";
  } else if (pub->kty == "OKP") {
    alg = "EdDSA";
  } else {
    alg = pub->crv == "P-256" ? "ES256" : "ES384";
    ec_len = pub->crv == "P-256" ? 32 : 48;
  }
  std::string header = "{\"alg\":\"" + alg + "\",";
  header += kid.empty() ? "\"jwk\":" + pub->canonical_json : "\"kid\":" + json_string(kid);
  if (!nonce.empty()) header += ",\"nonce\":" + json_string(nonce);
  header += ",\"url\":" + json_string(url);
  if (!extra_header_json.empty()) header += "," + std::string(extra_header_json);
  header += "}";
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);

  md_ctx_ptr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* tbs = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_of(alg), nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, tbs, input.size()) != 1)
    return detail::openssl_error("sign JWS");
  bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, tbs, input.size()) != 1)
    return detail::openssl_error("sign JWS");
  sig.resize(len);
  if (ec_len > 0) {
    const unsigned char* p = sig.data();
    ecdsa_sig_ptr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!parsed) return detail::openssl_error("sign JWS: ECDSA signature");
    bytes raw(ec_len * 2);
    if (BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), raw.data(), static_cast<int>(ec_len)) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), raw.data() + ec_len,
                     static_cast<int>(ec_len)) < 0)
      return detail::openssl_error("sign JWS: ECDSA signature");
    sig = std::move(raw);
  }
  const auto header_b64 = input.substr(0, input.find('.'));
  return "{\"protected\":\"" + header_b64 + "\",\"payload\":\"" + base64url_encode(payload) +
         "\",\"signature\":\"" + base64url_encode(sig) + "\"}";
}

}  // namespace certctl::crypto
