#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;

namespace {

std::string make_csr(key_type type, const std::string& cn, const subject_alt_names& sans) {
  auto key = generate_key(type);
  BOOST_REQUIRE(key.ok());
  auto csr = build_csr({key->pem, cn, sans});
  CERTCTL_REQUIRE_OK(csr);
  return csr.value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csr)

BOOST_AUTO_TEST_CASE(a_built_csr_parses_back_with_its_names_and_key) {
  const subject_alt_names sans{{"app.example.com", "*.app.example.com"},
                               {"192.0.2.7", "2001:db8::1"},
                               {"ops@example.com"},
                               {"spiffe://example.com/app"}};
  for (auto type :
       {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::ed25519}) {
    BOOST_TEST_CONTEXT(to_string(type)) {
      auto key = generate_key(type);
      BOOST_REQUIRE(key.ok());
      auto pem = build_csr({key->pem, "app.example.com", sans});
      BOOST_REQUIRE(pem.ok());
      BOOST_TEST(pem->find("-----BEGIN CERTIFICATE REQUEST-----") == 0u);

      auto info = parse_csr(pem.value());
      CERTCTL_REQUIRE_OK(info);
      BOOST_TEST(info->common_name == "app.example.com");
      BOOST_TEST(info->subject_dn == "CN=app.example.com");
      BOOST_TEST(info->dns_names == sans.dns);
      BOOST_TEST(info->ip_addresses == sans.ip);
      BOOST_TEST(info->emails == sans.email);
      BOOST_TEST(info->uris == sans.uri);
      BOOST_TEST(info->key_algorithm == key->public_key.algorithm);
      BOOST_TEST(info->key_bits == key->public_key.bits);
      BOOST_TEST(info->public_key_der == key->public_key.spki_der);
      BOOST_TEST(info->public_key_sha256_hex == key->public_key.sha256_hex);

      auto from_der = parse_csr_der(certctl::test::pem_to_der(pem.value()));
      BOOST_REQUIRE(from_der.ok());
      BOOST_TEST(from_der->public_key_sha256_hex == key->public_key.sha256_hex);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_csr_without_names_in_the_subject_parses_with_sans_only) {
  auto info = parse_csr(make_csr(key_type::ecdsa_p256, "", {{"only-san.example"}, {}, {}, {}}));
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->common_name.empty());
  BOOST_TEST(info->dns_names == std::vector<std::string>{"only-san.example"});
}

BOOST_AUTO_TEST_CASE(a_csr_whose_signed_content_was_changed_is_rejected) {
  const std::string pem = make_csr(key_type::ecdsa_p256, "tamper.example", {});
  auto der = certctl::test::pem_to_der(pem);
  const std::string needle = "tamper.example";
  auto it = std::search(der.begin(), der.end(), needle.begin(), needle.end());
  BOOST_REQUIRE(it != der.end());
  *it = 'T';  // same length, so the DER stays well formed; only the signature breaks
  auto info = parse_csr(certctl::test::der_to_pem(der, "CERTIFICATE REQUEST"));
  BOOST_REQUIRE(!info.ok());
  BOOST_TEST(info.error().message.find("signature does not verify") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_csr_with_a_corrupted_signature_is_rejected) {
  const std::string pem = make_csr(key_type::rsa_2048, "sig.example", {});
  auto der = certctl::test::pem_to_der(pem);
  der[der.size() - 5] ^= 0x01;  // inside the RSA signature value
  auto info = parse_csr_der(der);
  BOOST_REQUIRE(!info.ok());
  BOOST_TEST(info.error().message.find("signature does not verify") != std::string::npos);
}

// ECDSA CSRs in DER take a direct path (csr_der.cpp) instead of OpenSSL's key decoder; PEM
// CSRs still take the general one, so the two can be held against each other.
BOOST_AUTO_TEST_CASE(the_direct_der_path_reads_what_the_general_path_reads) {
  const subject_alt_names sans{{"a.example", "*.b.example"}, {"192.0.2.9"}, {}, {}};
  for (auto type :
       {key_type::ecdsa_p256, key_type::ecdsa_p384, key_type::rsa_2048, key_type::ed25519}) {
    for (const auto& names : {sans, subject_alt_names{}}) {
      BOOST_TEST_CONTEXT(to_string(type) << " with " << names.dns.size() << " DNS names") {
        const std::string pem = make_csr(type, "a.example", names);
        auto general = parse_csr(pem);
        auto direct = parse_csr_der(certctl::test::pem_to_der(pem));
        CERTCTL_REQUIRE_OK(general);
        CERTCTL_REQUIRE_OK(direct);
        BOOST_TEST(direct->subject_dn == general->subject_dn);
        BOOST_TEST(direct->common_name == general->common_name);
        BOOST_TEST(direct->dns_names == general->dns_names);
        BOOST_TEST(direct->ip_addresses == general->ip_addresses);
        BOOST_TEST(direct->emails == general->emails);
        BOOST_TEST(direct->uris == general->uris);
        BOOST_TEST(direct->key_algorithm == general->key_algorithm);
        BOOST_TEST(direct->key_bits == general->key_bits);
        BOOST_TEST(direct->key_curve == general->key_curve);
        BOOST_TEST(direct->public_key_der == general->public_key_der);
        BOOST_TEST(direct->public_key_sha256_hex == general->public_key_sha256_hex);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(an_ecdsa_der_csr_with_a_changed_name_signature_or_key_is_rejected) {
  const std::string pem =
      make_csr(key_type::ecdsa_p256, "tamper.example", {{"tamper.example"}, {}, {}, {}});
  const auto der = certctl::test::pem_to_der(pem);
  BOOST_REQUIRE(parse_csr_der(der).ok());

  auto renamed = der;
  const std::string needle = "tamper.example";
  auto it = std::search(renamed.begin(), renamed.end(), needle.begin(), needle.end());
  BOOST_REQUIRE(it != renamed.end());
  *it = 'T';
  auto info = parse_csr_der(renamed);
  BOOST_REQUIRE(!info.ok());
  BOOST_TEST(info.error().message.find("signature does not verify") != std::string::npos);

  auto resigned = der;
  resigned[resigned.size() - 3] ^= 0x01;  // inside the ECDSA signature's s
  BOOST_TEST(!parse_csr_der(resigned).ok());

  // The last byte of the public point: a point off the curve, or another key.
  auto info_der = parse_csr(pem);
  CERTCTL_REQUIRE_OK(info_der);
  const auto& spki = info_der->public_key_der;
  auto at = std::search(der.begin(), der.end(), spki.begin(), spki.end());
  BOOST_REQUIRE(at != der.end());
  auto rekeyed = der;
  rekeyed[static_cast<size_t>(at - der.begin()) + spki.size() - 1] ^= 0x01;
  BOOST_TEST(!parse_csr_der(rekeyed).ok());

  auto truncated = der;
  truncated.pop_back();
  BOOST_TEST(!parse_csr_der(truncated).ok());
  auto trailing = der;
  trailing.push_back(0);
  BOOST_TEST(!parse_csr_der(trailing).ok());
}

BOOST_AUTO_TEST_CASE(garbage_empty_and_oversize_csr_input_are_clear_errors) {
  auto garbage = parse_csr(
      "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
      "REQUEST-----\n");
  BOOST_REQUIRE(!garbage.ok());
  BOOST_TEST(garbage.error().message.find("parse CSR") == 0u);

  BOOST_TEST(!parse_csr("hello").ok());
  auto empty = parse_csr("");
  BOOST_REQUIRE(!empty.ok());
  BOOST_TEST(empty.error().message == "parse CSR: input is empty");

  auto oversize = parse_csr(std::string(max_csr_size + 1, 'x'));
  BOOST_REQUIRE(!oversize.ok());
  BOOST_TEST(oversize.error().message.find("exceeds the 65536 byte limit") != std::string::npos);

  auto der_garbage = parse_csr_der({0x30, 0x03, 0x02, 0x01, 0x00});
  BOOST_REQUIRE(!der_garbage.ok());
}

BOOST_AUTO_TEST_CASE(building_a_csr_with_malformed_names_fails_with_the_name) {
  auto key = generate_key();
  BOOST_REQUIRE(key.ok());
  auto bad_dns = build_csr({key->pem, "x", {{"bad name.example"}, {}, {}, {}}});
  BOOST_REQUIRE(!bad_dns.ok());
  BOOST_TEST(bad_dns.error().message.find("bad name.example") != std::string::npos);
  auto bad_ip = build_csr({key->pem, "x", {{}, {"300.1.1.1"}, {}, {}}});
  BOOST_REQUIRE(!bad_ip.ok());
  BOOST_TEST(bad_ip.error().message.find("invalid IP address") != std::string::npos);
  auto bad_uri = build_csr({key->pem, "x", {{}, {}, {}, {"no-scheme"}}});
  BOOST_TEST(!bad_uri.ok());
  auto nothing = build_csr({key->pem, "", {}});
  BOOST_TEST(!nothing.ok());
}

BOOST_AUTO_TEST_SUITE_END()
