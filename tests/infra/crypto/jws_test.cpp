#include <boost/test/unit_test.hpp>

#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;

namespace {

// RFC 7638 §3.1: the example RSA key and its thumbprint.
const std::string rfc7638_n =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
    "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbIS"
    "D08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
    "csFCur-kEgU8awapJzKnqDKgw";

std::string key_pem(key_type t) {
  auto k = generate_key(t);
  BOOST_REQUIRE(k.ok());
  return k->pem;
}

/// A flattened JWS with an arbitrary protected header and a junk signature.
std::string hand_made(const std::string& header, const std::string& payload = "{}") {
  return "{\"protected\":\"" + base64url_encode(header) + "\",\"payload\":\"" +
         base64url_encode(payload) + "\",\"signature\":\"" +
         base64url_encode(std::string(64, 'x')) + "\"}";
}

jws_errc parse_error(const std::string& body) {
  auto r = parse_jws(body);
  BOOST_REQUIRE_MESSAGE(!r.ok(), "parse_jws accepted " + body);
  return r.error().code;
}

const std::string ec_jwk =
    R"({"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";

}  // namespace

BOOST_AUTO_TEST_SUITE(jws)

BOOST_AUTO_TEST_CASE(base64url_round_trips_and_decodes_strictly) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    const auto enc = base64url_encode(s);
    BOOST_TEST(enc.find('=') == std::string::npos);
    BOOST_TEST(base64url_decode(enc).value() == s);
  }
  BOOST_TEST(base64url_encode(std::string("\xfb\xff")) == "-_8");
  BOOST_TEST(base64_encode("foob") == "Zm9vYg==");
  BOOST_TEST(!base64url_decode("Zm9vYg=="));  // padding
  BOOST_TEST(!base64url_decode("Zm9v+g"));    // standard alphabet
  BOOST_TEST(!base64url_decode("Zm9v Yg"));   // whitespace
  BOOST_TEST(!base64url_decode("Zm9vY"));     // length 1 mod 4
  BOOST_TEST(!base64url_decode("Zh"));        // non-zero trailing bits ("Zg" is canonical)
  BOOST_TEST(base64url_decode("Zg").value() == "f");
}

BOOST_AUTO_TEST_CASE(jwk_thumbprint_matches_rfc7638_example) {
  auto k = parse_jwk(R"({"kty":"RSA","n":")" + rfc7638_n +
                     R"(","e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
  CERTCTL_REQUIRE_OK(k);
  BOOST_TEST(k->thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  BOOST_TEST(k->bits == 2048);
  BOOST_TEST(k->canonical_json.find("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"") == 0u);
}

BOOST_AUTO_TEST_CASE(jwk_of_a_key_parses_back_to_the_same_thumbprint) {
  for (auto t :
       {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::ed25519}) {
    BOOST_TEST_CONTEXT(to_string(t)) {
      auto k = jwk_of_private_key(key_pem(t));
      CERTCTL_REQUIRE_OK(k);
      auto again = parse_jwk(k->canonical_json);
      BOOST_REQUIRE(again.ok());
      BOOST_TEST(again->thumbprint == k->thumbprint);
      BOOST_TEST(again->spki_der == k->spki_der);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_jwks_are_refused) {
  BOOST_TEST(parse_jwk(ec_jwk).ok());
  // Private members, unknown types and curves, a point off the curve, short coordinates.
  std::string with_d = ec_jwk;
  with_d.insert(1, R"("d":"AAAA",)");
  BOOST_TEST(!parse_jwk(with_d).ok());
  BOOST_TEST(!parse_jwk(R"({"kty":"oct","k":"AAAA"})").ok());
  BOOST_TEST(!parse_jwk(R"({"kty":"EC","crv":"P-521","x":"AA","y":"AA"})").ok());
  std::string off_curve = ec_jwk;
  off_curve.replace(off_curve.find("x_FE"), 4, "y_FE");
  BOOST_TEST(!parse_jwk(off_curve).ok());
  BOOST_TEST(!parse_jwk(R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})").ok());
  BOOST_TEST(!parse_jwk(R"({"kty":"RSA","n":"AQAB","e":"AQAB"})").ok());  // tiny modulus
  BOOST_TEST(!parse_jwk(R"({"kty":"EC","kty":"EC"})").ok());              // duplicate member
}

BOOST_AUTO_TEST_CASE(signed_requests_verify_for_every_algorithm) {
  for (auto t :
       {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::ed25519}) {
    BOOST_TEST_CONTEXT(to_string(t)) {
      const auto pem = key_pem(t);
      auto body = sign_jws(pem, "nonce1", "https://ca.test/acme/new-account", "", R"({"a":1})");
      CERTCTL_REQUIRE_OK(body);
      auto parsed = parse_jws(*body);
      CERTCTL_REQUIRE_OK(parsed);
      BOOST_TEST(parsed->header.nonce == "nonce1");
      BOOST_TEST(parsed->header.url == "https://ca.test/acme/new-account");
      BOOST_REQUIRE(parsed->header.key.has_value());
      BOOST_TEST(parsed->payload == R"({"a":1})");
      BOOST_TEST(!parsed->post_as_get);
      BOOST_TEST(verify_jws(*parsed, *parsed->header.key).ok());

      // The same key by reference, and an empty payload (POST-as-GET).
      auto by_kid =
          sign_jws(pem, "n2", "https://ca.test/acme/order/1", "https://ca.test/acme/account/a", "");
      BOOST_REQUIRE(by_kid.ok());
      auto p2 = parse_jws(*by_kid);
      BOOST_REQUIRE(p2.ok());
      BOOST_TEST(p2->header.kid == "https://ca.test/acme/account/a");
      BOOST_TEST(p2->post_as_get);
      BOOST_TEST(verify_jws(*p2, *parsed->header.key).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(tampering_and_wrong_keys_fail_verification) {
  const auto pem = key_pem(key_type::ecdsa_p256);
  auto body = sign_jws(pem, "n", "https://ca.test/x", "", R"({"a":1})");
  BOOST_REQUIRE(body.ok());
  auto parsed = parse_jws(*body);
  BOOST_REQUIRE(parsed.ok());
  auto tampered = *parsed;
  tampered.signing_input.back() ^= 1;
  BOOST_TEST((verify_jws(tampered, *parsed->header.key).error().code == jws_errc::bad_signature));
  auto other = jwk_of_private_key(key_pem(key_type::ecdsa_p256));
  BOOST_TEST((verify_jws(*parsed, *other).error().code == jws_errc::bad_signature));
  // ES256 claimed, RSA key presented: the algorithm does not fit the key.
  auto rsa = jwk_of_private_key(key_pem(key_type::rsa_2048));
  BOOST_TEST((verify_jws(*parsed, *rsa).error().code == jws_errc::bad_signature_algorithm));
  auto p384 = jwk_of_private_key(key_pem(key_type::ecdsa_p384));
  BOOST_TEST((verify_jws(*parsed, *p384).error().code == jws_errc::bad_signature_algorithm));
  // A signature of the wrong length for the curve.
  auto short_sig = *parsed;
  short_sig.signature.pop_back();
  BOOST_TEST((verify_jws(short_sig, *parsed->header.key).error().code == jws_errc::bad_signature));
}

BOOST_AUTO_TEST_CASE(a_loaded_verifier_and_signer_agree_with_the_one_shot_functions) {
  for (auto t :
       {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::ed25519}) {
    BOOST_TEST_CONTEXT(to_string(t)) {
      const auto pem = key_pem(t);
      auto signer = jws_signer::make(pem);
      CERTCTL_REQUIRE_OK(signer);
      auto pub = jwk_of_private_key(pem);
      CERTCTL_REQUIRE_OK(pub);
      BOOST_TEST((*signer)->public_key().thumbprint == pub->thumbprint);
      auto verifier = jws_verifier::make(*pub);
      CERTCTL_REQUIRE_OK(verifier);
      // The signer signs many requests; every one verifies with the one loaded verifier.
      for (const char* payload : {R"({"a":1})", ""}) {
        auto body =
            (*signer)->sign("n", "https://ca.test/x", "https://ca.test/acme/account/a", payload);
        CERTCTL_REQUIRE_OK(body);
        auto parsed = parse_jws(*body);
        CERTCTL_REQUIRE_OK(parsed);
        BOOST_TEST((*verifier)->verify(*parsed).ok());
        BOOST_TEST(verify_jws(*parsed, *pub).ok());
        auto tampered = *parsed;
        tampered.signing_input.back() ^= 1;
        BOOST_TEST(((*verifier)->verify(tampered).error().code == jws_errc::bad_signature));
      }
      // Signatures from another key, or an algorithm that does not fit, fail as before.
      auto other = sign_jws(key_pem(t), "n", "https://ca.test/x", "k", "{}");
      CERTCTL_REQUIRE_OK(other);
      auto parsed_other = parse_jws(*other);
      CERTCTL_REQUIRE_OK(parsed_other);
      BOOST_TEST(!(*verifier)->verify(*parsed_other).ok());
      if (t != key_type::ecdsa_p256) {
        auto es256 = sign_jws(key_pem(key_type::ecdsa_p256), "n", "https://ca.test/x", "k", "{}");
        CERTCTL_REQUIRE_OK(es256);
        auto parsed_es256 = parse_jws(*es256);
        CERTCTL_REQUIRE_OK(parsed_es256);
        BOOST_TEST(
            ((*verifier)->verify(*parsed_es256).error().code == jws_errc::bad_signature_algorithm));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_inner_jws_of_key_change_has_a_jwk_and_no_nonce) {
  const std::string jwk_member = "\"jwk\":" + ec_jwk;
  const auto inner = jws_use::key_change_inner;
  const std::string ok = R"({"alg":"ES256","url":"https://u",)" + jwk_member + "}";
  BOOST_TEST(parse_jws(hand_made(ok), {}, inner).ok());
  BOOST_TEST(!parse_jws(hand_made(ok)).ok());
  BOOST_TEST(!parse_jws(hand_made(R"({"alg":"ES256","nonce":"n","url":"u",)" + jwk_member + "}"),
                        {}, inner)
                  .ok());
  BOOST_TEST(!parse_jws(hand_made(R"({"alg":"ES256","url":"u","kid":"k"})"), {}, inner).ok());
  // sign_jws without a nonce makes exactly that.
  auto signed_inner = sign_jws(key_pem(key_type::ecdsa_p256), "", "https://u", "", "{}");
  BOOST_REQUIRE(signed_inner.ok());
  auto parsed = parse_jws(*signed_inner, {}, inner);
  BOOST_REQUIRE(parsed.ok());
  BOOST_TEST(verify_jws(*parsed, *parsed->header.key).ok());
}

BOOST_AUTO_TEST_CASE(header_rules_of_rfc8555_are_enforced) {
  const std::string jwk_member = "\"jwk\":" + ec_jwk;
  const std::string ok = R"({"alg":"ES256","nonce":"n","url":"https://u",)" + jwk_member + "}";
  BOOST_TEST(parse_jws(hand_made(ok)).ok());
  using e = jws_errc;
  BOOST_TEST((parse_error(hand_made(R"({"alg":"none","nonce":"n","url":"u",)" + jwk_member +
                                    "}")) == e::bad_signature_algorithm));
  BOOST_TEST((parse_error(hand_made(R"({"alg":"HS256","nonce":"n","url":"u","kid":"k"})")) ==
              e::bad_signature_algorithm));
  BOOST_TEST((parse_error(hand_made(R"({"nonce":"n","url":"u","kid":"k"})")) == e::malformed));
  BOOST_TEST((parse_error(hand_made(R"({"alg":"ES256","url":"u","kid":"k"})")) == e::malformed));
  BOOST_TEST((parse_error(hand_made(R"({"alg":"ES256","nonce":"n","kid":"k"})")) == e::malformed));
  BOOST_TEST((parse_error(hand_made(R"({"alg":"ES256","nonce":"n","url":"u"})")) == e::malformed));
  BOOST_TEST((parse_error(hand_made(R"({"alg":"ES256","nonce":"n","url":"u","kid":"k",)" +
                                    jwk_member + "}")) == e::malformed));
  BOOST_TEST(
      (parse_error(hand_made(R"({"alg":"ES256","nonce":"n","url":"u","kid":"k","crit":["x"]})")) ==
       e::malformed));
  BOOST_TEST(
      (parse_error(hand_made(R"({"alg":"ES256","nonce":"n","url":"u","kid":"k","kid":"j"})")) ==
       e::malformed));
  BOOST_TEST((parse_error(hand_made(R"({"alg":"ES256","nonce":"\ud800","url":"u","kid":"k"})")) ==
              e::malformed));
  BOOST_TEST(
      (parse_error(hand_made(R"({"alg":"ES256","nonce":"n","url":"u","jwk":{"kty":"EC"}})")) ==
       e::bad_public_key));
}

BOOST_AUTO_TEST_CASE(envelope_shape_and_limits_are_enforced) {
  using e = jws_errc;
  const std::string good = hand_made(R"({"alg":"ES256","nonce":"n","url":"u","kid":"k"})");
  BOOST_TEST(parse_jws(good).ok());
  BOOST_TEST((parse_error("") == e::malformed));
  BOOST_TEST((parse_error("[]") == e::malformed));
  BOOST_TEST((parse_error(good + "x") == e::malformed));
  BOOST_TEST((parse_error(R"({"protected":"e30","payload":"","signature":"AA","header":{}})") ==
              e::malformed));
  BOOST_TEST((parse_error(R"({"payload":"","signatures":[]})") == e::malformed));
  BOOST_TEST(
      (parse_error(R"({"protected":"e30","payload":"","signature":"AA","x":1})") == e::malformed));
  BOOST_TEST(
      (parse_error(R"({"protected":"e30=","payload":"","signature":"AA"})") == e::malformed));
  BOOST_TEST((parse_error(R"({"protected":"e30","payload":"","signature":""})") == e::malformed));
  // Oversized bodies are refused before any parsing.
  jws_limits small;
  small.max_body = 64;
  auto big = parse_jws(good, small);
  BOOST_REQUIRE(!big.ok());
  BOOST_TEST(big.error().message.find("exceeds") != std::string::npos);
  // Deep nesting inside the header is refused, not recursed into.
  std::string deep(200, '[');
  deep += std::string(200, ']');
  BOOST_TEST((parse_error(hand_made(R"({"alg":"ES256","nonce":"n","url":"u","kid":"k","x":)" +
                                    deep + "}")) == e::malformed));
}

BOOST_AUTO_TEST_SUITE_END()
