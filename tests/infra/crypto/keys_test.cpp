#include <boost/test/unit_test.hpp>

#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(every_key_type_generates_a_pkcs8_key_that_parses_back_to_the_same_key) {
  struct expectation {
    key_type type;
    const char* algorithm;
    int bits;
    const char* curve;
  };
  const expectation cases[] = {
      {key_type::ecdsa_p256, "ECDSA", 256, "P-256"}, {key_type::ecdsa_p384, "ECDSA", 384, "P-384"},
      {key_type::rsa_2048, "RSA", 2048, ""},         {key_type::rsa_3072, "RSA", 3072, ""},
      {key_type::rsa_4096, "RSA", 4096, ""},         {key_type::ed25519, "Ed25519", 256, ""}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(to_string(c.type)) {
      auto key = generate_key(c.type);
      CERTCTL_REQUIRE_OK(key);
      BOOST_TEST(key->pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
      BOOST_TEST(key->public_key.algorithm == c.algorithm);
      BOOST_TEST(key->public_key.bits == c.bits);
      BOOST_TEST(key->public_key.curve == c.curve);
      BOOST_TEST(key->public_key.sha256_hex.size() == 64u);
      BOOST_TEST(!key->public_key.spki_der.empty());

      auto parsed = parse_private_key(key->pem);
      BOOST_REQUIRE(parsed.ok());
      BOOST_TEST(parsed->public_key.sha256_hex == key->public_key.sha256_hex);
      BOOST_TEST(parsed->pem == key->pem);
    }
  }
}

BOOST_AUTO_TEST_CASE(two_generated_keys_differ) {
  auto a = generate_key();
  auto b = generate_key();
  BOOST_REQUIRE(a.ok() && b.ok());
  BOOST_TEST(a->public_key.sha256_hex != b->public_key.sha256_hex);
}

BOOST_AUTO_TEST_CASE(key_type_names_round_trip) {
  for (auto t : {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::rsa_3072,
                 key_type::rsa_4096, key_type::ed25519}) {
    BOOST_TEST((parse_key_type(to_string(t)) == std::optional<key_type>(t)));
  }
  BOOST_TEST(!parse_key_type("DSA-1024").has_value());
}

BOOST_AUTO_TEST_CASE(garbage_empty_and_oversize_key_input_are_clear_errors) {
  auto garbage = parse_private_key("not a key at all");
  BOOST_REQUIRE(!garbage.ok());
  BOOST_TEST(garbage.error().message.find("parse private key") == 0u);

  auto empty = parse_private_key("");
  BOOST_REQUIRE(!empty.ok());
  BOOST_TEST(empty.error().message.find("empty") != std::string::npos);

  auto oversize = parse_private_key(std::string(max_private_key_pem + 1, 'A'));
  BOOST_REQUIRE(!oversize.ok());
  BOOST_TEST(oversize.error().message.find("limit") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
