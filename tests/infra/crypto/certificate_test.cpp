#include <boost/test/unit_test.hpp>

#include <ctime>
#include <set>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;

namespace {

struct test_ca {
  std::string key_pem;
  std::string cert_pem;
};

const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));

test_ca make_root(key_type type = key_type::ecdsa_p256, const std::string& cn = "Test Root") {
  auto key = generate_key(type);
  BOOST_REQUIRE(key.ok());
  certificate_template t;
  t.subject = {cn, "certctl tests", ""};
  t.not_before = now_s - 60;
  t.not_after = now_s + 365 * 86400;
  t.is_ca = true;
  auto cert = self_sign(key->pem, t);
  CERTCTL_REQUIRE_OK(cert);
  return {key->pem, cert.value()};
}

certificate_template leaf_template(const bytes& spki) {
  certificate_template t;
  t.public_key_der = spki;
  t.subject.common_name = "leaf.example.com";
  t.sans = {{"leaf.example.com", "www.leaf.example.com"},
            {"10.1.2.3", "::1"},
            {"admin@example.com"},
            {"https://leaf.example.com/id"}};
  t.not_before = now_s;
  t.not_after = now_s + 30 * 86400;
  t.ext_key_usages = {ext_key_usage::server_auth, ext_key_usage::client_auth};
  t.crl_url = "https://pki.example/crl/iss-1";
  t.ocsp_url = "https://pki.example/ocsp/iss-1";
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(certificates)

BOOST_AUTO_TEST_CASE(a_self_signed_root_is_a_ca_with_matching_key_identifiers) {
  const auto root = make_root();
  auto info = parse_certificate(root.cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->is_ca);
  BOOST_TEST(info->path_len == -1);
  BOOST_TEST(info->subject_dn == "CN=Test Root,O=certctl tests");
  BOOST_TEST(info->issuer_dn == info->subject_dn);
  BOOST_TEST(info->subject_key_id_hex.size() == 40u);
  BOOST_TEST(info->authority_key_id_hex == info->subject_key_id_hex);
  BOOST_TEST(check_ca_certificate(root.cert_pem).ok());
  BOOST_TEST(check_key_matches_certificate(root.key_pem, root.cert_pem).ok());
}

BOOST_AUTO_TEST_CASE(a_signed_leaf_carries_everything_the_template_asked_for) {
  const auto root = make_root(key_type::ecdsa_p384);
  auto signer = certificate_signer::create(root.cert_pem, root.key_pem);
  CERTCTL_REQUIRE_OK(signer);
  auto leaf_key = generate_key(key_type::rsa_2048);
  BOOST_REQUIRE(leaf_key.ok());
  const auto t = leaf_template(leaf_key->public_key.spki_der);
  auto pem = signer->sign(t);
  CERTCTL_REQUIRE_OK(pem);

  auto info = parse_certificate(pem.value());
  BOOST_REQUIRE(info.ok());
  auto root_info = parse_certificate(root.cert_pem);
  BOOST_REQUIRE(root_info.ok());
  BOOST_TEST(info->common_name == "leaf.example.com");
  BOOST_TEST(info->issuer_dn == root_info->subject_dn);
  BOOST_TEST(info->authority_key_id_hex == root_info->subject_key_id_hex);
  BOOST_TEST(info->sans.dns == t.sans.dns);
  BOOST_TEST(info->sans.ip == t.sans.ip);
  BOOST_TEST(info->sans.email == t.sans.email);
  BOOST_TEST(info->sans.uri == t.sans.uri);
  BOOST_TEST(info->not_before == t.not_before);
  BOOST_TEST(info->not_after == t.not_after);
  BOOST_TEST(!info->is_ca);
  BOOST_TEST(info->key_algorithm == "RSA");
  BOOST_TEST(info->key_bits == 2048);
  BOOST_TEST(info->public_key_sha256_hex == leaf_key->public_key.sha256_hex);
  BOOST_TEST((info->ext_key_usages ==
              std::vector<ext_key_usage>{ext_key_usage::server_auth, ext_key_usage::client_auth}));
  BOOST_TEST(info->crl_urls == std::vector<std::string>{t.crl_url});
  BOOST_TEST(info->ocsp_urls == std::vector<std::string>{t.ocsp_url});
  BOOST_TEST(info->serial_hex.size() == 32u);  // 16 bytes, top bits 01
  BOOST_TEST(info->fingerprint_sha256_hex.size() == 64u);
  BOOST_TEST(check_key_matches_certificate(leaf_key->pem, pem.value()).ok());
  BOOST_TEST(!check_ca_certificate(pem.value()).ok());
}

BOOST_AUTO_TEST_CASE(random_serials_are_positive_sixteen_bytes_and_unique) {
  std::set<bytes> seen;
  for (int i = 0; i < 1000; ++i) {
    const bytes s = random_serial();
    BOOST_REQUIRE(s.size() == 16u);
    BOOST_REQUIRE((s[0] & 0xc0) == 0x40);
    seen.insert(s);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(an_explicit_serial_is_used_and_rendered_in_upper_case_hex) {
  const auto root = make_root();
  auto signer = certificate_signer::create(root.cert_pem, root.key_pem);
  BOOST_REQUIRE(signer.ok());
  auto key = generate_key();
  auto t = leaf_template(key->public_key.spki_der);
  t.serial = {0x0a, 0xbc, 0xde};
  auto pem = signer->sign(t);
  BOOST_REQUIRE(pem.ok());
  BOOST_TEST(parse_certificate(pem.value())->serial_hex == "0ABCDE");
  t.serial = {0x00};
  BOOST_TEST(!signer->sign(t).ok());
}

BOOST_AUTO_TEST_CASE(an_intermediate_carries_path_length_and_name_constraints) {
  const auto root = make_root();
  auto signer = certificate_signer::create(root.cert_pem, root.key_pem);
  BOOST_REQUIRE(signer.ok());
  auto key = generate_key();
  certificate_template t;
  t.public_key_der = key->public_key.spki_der;
  t.subject.common_name = "Intermediate";
  t.not_before = now_s;
  t.not_after = now_s + 86400;
  t.is_ca = true;
  t.path_len = 0;
  t.permitted_dns = {".example.com", "example.com"};
  t.excluded_dns = {"secret.example.com"};
  auto pem = signer->sign(t);
  CERTCTL_REQUIRE_OK(pem);
  auto info = parse_certificate(pem.value());
  BOOST_TEST(info->is_ca);
  BOOST_TEST(info->path_len == 0);
  BOOST_TEST(check_ca_certificate(pem.value()).ok());

  // The intermediate can in turn sign.
  auto sub = certificate_signer::create(pem.value(), key->pem);
  BOOST_REQUIRE(sub.ok());
  auto leaf_key = generate_key(key_type::ed25519);
  auto leaf = sub->sign(leaf_template(leaf_key->public_key.spki_der));
  BOOST_REQUIRE(leaf.ok());
  BOOST_TEST(parse_certificate(leaf.value())->issuer_dn == "CN=Intermediate");
}

BOOST_AUTO_TEST_CASE(the_signer_refuses_a_non_ca_certificate_and_a_mismatched_key) {
  const auto root = make_root();
  auto key = generate_key();
  certificate_template t = leaf_template(key->public_key.spki_der);
  auto leaf = self_sign(key->pem, t);
  BOOST_REQUIRE(leaf.ok());
  auto not_ca = certificate_signer::create(leaf.value(), key->pem);
  BOOST_REQUIRE(!not_ca.ok());
  BOOST_TEST(not_ca.error().message.find("basicConstraints CA:TRUE is missing") !=
             std::string::npos);

  auto other = generate_key();
  auto mismatch = certificate_signer::create(root.cert_pem, other->pem);
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST(mismatch.error().message.find("does not match") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(templates_that_make_no_sense_are_refused) {
  const auto root = make_root();
  auto signer = certificate_signer::create(root.cert_pem, root.key_pem);
  auto key = generate_key();
  auto t = leaf_template(key->public_key.spki_der);
  t.not_after = t.not_before;
  BOOST_TEST(!signer->sign(t).ok());
  t = leaf_template(key->public_key.spki_der);
  t.path_len = 1;  // leaf
  BOOST_TEST(!signer->sign(t).ok());
  t = leaf_template(key->public_key.spki_der);
  t.public_key_der = {1, 2, 3};
  BOOST_TEST(!signer->sign(t).ok());
  t = leaf_template(key->public_key.spki_der);
  t.subject.common_name = std::string(65, 'a');
  BOOST_TEST(!signer->sign(t).ok());
  t = leaf_template(key->public_key.spki_der);
  t.crl_url = "not a url";
  BOOST_TEST(!signer->sign(t).ok());
}

BOOST_AUTO_TEST_CASE(chains_split_into_certificates_and_pem_der_round_trips) {
  const auto a = make_root(key_type::ecdsa_p256, "A");
  const auto b = make_root(key_type::ecdsa_p256, "B");
  auto chain = split_pem_chain("leading text\n" + a.cert_pem + "\n" + b.cert_pem + "trailer\n");
  BOOST_REQUIRE(chain.ok());
  BOOST_REQUIRE(chain->size() == 2u);
  BOOST_TEST(parse_certificate((*chain)[1])->common_name == "B");
  BOOST_TEST(!split_pem_chain("no certificates here").ok());
  BOOST_TEST(!split_pem_chain("").ok());

  auto der = certificate_pem_to_der(a.cert_pem);
  BOOST_REQUIRE(der.ok());
  auto pem = certificate_der_to_pem(der.value());
  BOOST_REQUIRE(pem.ok());
  BOOST_TEST(pem.value() == a.cert_pem);
}

BOOST_AUTO_TEST_CASE(garbage_and_oversize_certificate_input_are_clear_errors) {
  auto garbage =
      parse_certificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  BOOST_REQUIRE(!garbage.ok());
  BOOST_TEST(garbage.error().message.find("parse certificate") == 0u);
  auto oversize = parse_certificate(std::string(max_chain_pem + 1, 'x'));
  BOOST_REQUIRE(!oversize.ok());
  BOOST_TEST(oversize.error().message.find("limit") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
