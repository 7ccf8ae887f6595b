// The encoder-free paths (detail/key_der.cpp) against OpenSSL's own encoders and parsers: same
// bytes, same facts, same refusals.
#include <boost/test/unit_test.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;

namespace {

/// The key written by OpenSSL's encoder (the reference): PKCS#8 PEM and SPKI DER.
struct reference_encoding {
  std::string pem;
  bytes spki;
};

reference_encoding openssl_encoding(const std::string& pem) {
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  BOOST_REQUIRE(key != nullptr);
  reference_encoding out;
  BIO* mem = BIO_new(BIO_s_mem());
  BOOST_REQUIRE(PEM_write_bio_PrivateKey(mem, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(mem, &data);
  out.pem.assign(data, static_cast<size_t>(n));
  BIO_free(mem);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  BOOST_REQUIRE(len > 0);
  out.spki.assign(der, der + len);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return out;
}

/// A CA to sign with.
certificate_signer test_signer() {
  auto ca_key = generate_key(key_type::ecdsa_p256);
  BOOST_REQUIRE(ca_key.ok());
  certificate_template root;
  root.subject.common_name = "Fast Path Test Root";
  root.not_before = 1'700'000'000;
  root.not_after = 1'900'000'000;
  root.is_ca = true;
  auto root_pem = self_sign(ca_key->pem, root);
  BOOST_REQUIRE(root_pem.ok());
  auto signer = certificate_signer::create(root_pem.value(), ca_key->pem);
  BOOST_REQUIRE(signer.ok());
  return std::move(signer).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fast_encoding)

BOOST_AUTO_TEST_CASE(generated_keys_are_encoded_exactly_as_openssl_encodes_them) {
  // 300 P-256 keys: about one in 256 has a private scalar with a leading zero byte, which
  // must still be written at full length.
  const std::pair<key_type, int> runs[] = {{key_type::ecdsa_p256, 300},
                                           {key_type::ecdsa_p384, 20},
                                           {key_type::ed25519, 5},
                                           {key_type::rsa_2048, 1}};
  for (const auto& [type, count] : runs) {
    BOOST_TEST_CONTEXT(to_string(type)) {
      for (int i = 0; i < count; ++i) {
        auto key = generate_key(type);
        CERTCTL_REQUIRE_OK(key);
        const reference_encoding ref = openssl_encoding(key->pem);
        BOOST_TEST(key->pem == ref.pem);
        BOOST_TEST((key->public_key.spki_der == ref.spki));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_csr_info_of_a_generated_csr_is_what_parsing_it_returns) {
  const subject_alt_names sans{{"app.example.com", "*.app.example.com"},
                               {"192.0.2.7", "2001:db8::0:1"},
                               {"ops@example.com"},
                               {"spiffe://example.com/app"}};
  for (auto type : {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::ed25519}) {
    BOOST_TEST_CONTEXT(to_string(type)) {
      auto made = generate_key_and_csr(type, "app.example.com", sans);
      CERTCTL_REQUIRE_OK(made);
      auto parsed = parse_csr(made->csr_pem);
      CERTCTL_REQUIRE_OK(parsed);
      const csr_info& a = made->csr;
      const csr_info& b = parsed.value();
      BOOST_TEST(a.subject_dn == b.subject_dn);
      BOOST_TEST(a.common_name == b.common_name);
      BOOST_TEST(a.dns_names == b.dns_names);
      BOOST_TEST(a.ip_addresses == b.ip_addresses);  // "2001:db8::1", normalised in both
      BOOST_TEST(a.emails == b.emails);
      BOOST_TEST(a.uris == b.uris);
      BOOST_TEST(a.key_algorithm == b.key_algorithm);
      BOOST_TEST(a.key_bits == b.key_bits);
      BOOST_TEST(a.key_curve == b.key_curve);
      BOOST_TEST((a.public_key_der == b.public_key_der));
      BOOST_TEST(a.public_key_sha256_hex == b.public_key_sha256_hex);
      BOOST_TEST((a.public_key_der == made->key.public_key.spki_der));
    }
  }
}

BOOST_AUTO_TEST_CASE(what_the_signer_reports_is_what_the_certificate_says) {
  const certificate_signer signer = test_signer();
  for (auto type :
       {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::ed25519, key_type::rsa_2048}) {
    BOOST_TEST_CONTEXT(to_string(type)) {
      auto key = generate_key(type);
      CERTCTL_REQUIRE_OK(key);
      certificate_template t;
      t.public_key_der = key->public_key.spki_der;
      t.subject.common_name = "leaf.example.com";
      t.sans.dns = {"leaf.example.com"};
      t.not_before = 1'750'000'000;
      t.not_after = 1'760'000'000;
      t.ext_key_usages = {ext_key_usage::server_auth};
      // A serial with a leading zero byte: reported without it, as a parser renders it.
      t.serial = {0x00, 0x00, 0x7f, 0x01, 0xab};
      auto made = signer.sign_certificate(t);
      CERTCTL_REQUIRE_OK(made);
      auto info = parse_certificate(made->pem);
      CERTCTL_REQUIRE_OK(info);
      BOOST_TEST(made->serial_hex == "7F01AB");
      BOOST_TEST(made->serial_hex == info->serial_hex);
      BOOST_TEST(made->not_before == info->not_before);
      BOOST_TEST(made->not_after == info->not_after);
      BOOST_TEST(made->fingerprint_sha256_hex == info->fingerprint_sha256_hex);
      BOOST_TEST((info->public_key_der == key->public_key.spki_der));
      BOOST_TEST(info->key_algorithm == key->public_key.algorithm);
      auto pem_again = certificate_der_to_pem(made->der);  // OpenSSL's PEM writer
      CERTCTL_REQUIRE_OK(pem_again);
      BOOST_TEST(made->pem == pem_again.value());
      BOOST_TEST(signer.sign(t).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(malformed_public_keys_are_refused_by_the_signer) {
  const certificate_signer signer = test_signer();
  auto key = generate_key(key_type::ecdsa_p256);
  CERTCTL_REQUIRE_OK(key);
  certificate_template t;
  t.subject.common_name = "leaf.example.com";
  t.not_before = 1'750'000'000;
  t.not_after = 1'760'000'000;

  bytes off_curve = key->public_key.spki_der;
  BOOST_REQUIRE(off_curve.size() == 91u);  // P-256 SPKI
  off_curve[90] ^= 0x01;                   // the point's last Y byte: no longer on the curve
  bytes trailing = key->public_key.spki_der;
  trailing.push_back(0x00);
  bytes truncated(key->public_key.spki_der.begin(), key->public_key.spki_der.end() - 10);
  const bytes garbage = {0x30, 0x03, 0x02, 0x01, 0x01};
  for (const bytes& der : {off_curve, trailing, truncated, garbage, bytes{}}) {
    t.public_key_der = der;
    auto r = signer.sign_certificate(t);
    BOOST_TEST(!r.ok());
    if (!r.ok()) BOOST_TEST(r.error().message.find("sign certificate") == 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
