#include <boost/test/unit_test.hpp>

#include "infra/crypto/aead.hpp"

using namespace certctl::crypto;

BOOST_AUTO_TEST_SUITE(aead)

BOOST_AUTO_TEST_CASE(sealed_data_opens_to_the_original_plaintext) {
  const aead_key key = generate_aead_key();
  for (const std::string& plaintext :
       {std::string(), std::string("x"), std::string(10000, 'k'), std::string("bin\0ary", 7)}) {
    auto sealed = aead_seal(key, plaintext, "id-1");
    BOOST_REQUIRE(sealed.ok());
    BOOST_TEST(sealed->size() == aead_nonce_size + plaintext.size() + aead_tag_size);
    auto opened = aead_open(key, sealed.value(), "id-1");
    BOOST_REQUIRE(opened.ok());
    BOOST_TEST(opened.value() == plaintext);
  }
}

BOOST_AUTO_TEST_CASE(sealing_twice_uses_fresh_nonces) {
  const aead_key key = generate_aead_key();
  auto a = aead_seal(key, "same");
  auto b = aead_seal(key, "same");
  BOOST_TEST((a.value() != b.value()));
}

BOOST_AUTO_TEST_CASE(any_flipped_bit_wrong_key_or_wrong_associated_data_fails_to_open) {
  const aead_key key = generate_aead_key();
  auto sealed = aead_seal(key, "the secret", "aad");
  BOOST_REQUIRE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    bytes tampered = sealed.value();
    tampered[i] ^= 0x80;
    auto opened = aead_open(key, tampered, "aad");
    BOOST_REQUIRE_MESSAGE(!opened.ok(), "byte " << i);
    BOOST_TEST(opened.error().message.find("authentication failed") != std::string::npos);
  }
  BOOST_TEST(!aead_open(generate_aead_key(), sealed.value(), "aad").ok());
  BOOST_TEST(!aead_open(key, sealed.value(), "other").ok());
  BOOST_TEST(!aead_open(key, bytes(sealed->begin(), sealed->end() - 1), "aad").ok());
  BOOST_TEST(!aead_open(key, bytes(5, 0), "aad").ok());
}

BOOST_AUTO_TEST_SUITE_END()
