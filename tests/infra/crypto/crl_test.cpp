// CRLs and OCSP responder certificates from revocation_signer, checked by our parser and by
// the openssl CLI (a peer: `openssl crl`, `openssl verify -crl_check`, `openssl x509`).
#include <boost/test/unit_test.hpp>

#include <ctime>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;
namespace t = certctl::test;

namespace {

const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));

struct ca_fixture {
  std::string key_pem, cert_pem;
  ca_fixture() {
    auto key = generate_key(key_type::ecdsa_p256);
    BOOST_REQUIRE(key.ok());
    certificate_template tpl;
    tpl.subject = {"CRL Test Root", "certctl tests", ""};
    tpl.not_before = now_s - 60;
    tpl.not_after = now_s + 365 * 86400;
    tpl.is_ca = true;
    auto cert = self_sign(key->pem, tpl);
    CERTCTL_REQUIRE_OK(cert);
    key_pem = key->pem;
    cert_pem = cert.value();
  }
  revocation_signer signer() const {
    auto s = revocation_signer::create(cert_pem, key_pem);
    CERTCTL_REQUIRE_OK(s);
    return std::move(s).value();
  }
  signed_certificate leaf() const {
    auto s = certificate_signer::create(cert_pem, key_pem);
    CERTCTL_REQUIRE_OK(s);
    auto key = generate_key(key_type::ecdsa_p256);
    BOOST_REQUIRE(key.ok());
    certificate_template tpl;
    tpl.public_key_der = key->public_key.spki_der;
    tpl.subject.common_name = "leaf.example.com";
    tpl.sans.dns = {"leaf.example.com"};
    tpl.not_before = now_s - 60;
    tpl.not_after = now_s + 86400;
    auto c = s.value().sign_certificate(tpl);
    CERTCTL_REQUIRE_OK(c);
    return std::move(c).value();
  }
};

crl_content sample(std::int64_t number) {
  crl_content c;
  c.crl_number = number;
  c.this_update = now_s - 10;
  c.next_update = now_s + 86400;
  c.revoked = {{"0AFF", now_s - 100, 0, 0},
               {"01", now_s - 200, 1, now_s - 3600},
               {"7f000000000000000000000000000001", now_s - 50, 4, 0}};
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crl)

BOOST_AUTO_TEST_CASE(signed_crl_parses_back_with_every_field) {
  ca_fixture ca;
  auto der = ca.signer().sign_crl(sample(7));
  CERTCTL_REQUIRE_OK(der);
  auto info = parse_crl(der.value(), ca.cert_pem);
  CERTCTL_REQUIRE_OK(info);
  BOOST_TEST(info->crl_number == 7);
  BOOST_TEST(info->this_update == now_s - 10);
  BOOST_TEST(info->next_update == now_s + 86400);
  BOOST_TEST(info->issuer_dn == "CN=CRL Test Root,O=certctl tests");
  auto ca_info = parse_certificate(ca.cert_pem);
  CERTCTL_REQUIRE_OK(ca_info);
  BOOST_TEST(info->authority_key_id_hex == ca_info->subject_key_id_hex);
  BOOST_REQUIRE(info->revoked.size() == 3u);
  // Sorted by serial; reason 0 travels as "no extension" and reads back as 0.
  BOOST_TEST(info->revoked[0].serial_hex == "01");
  BOOST_TEST(info->revoked[0].reason_code == 1);
  BOOST_TEST(info->revoked[0].invalidity_date == now_s - 3600);
  BOOST_TEST(info->revoked[1].serial_hex == "0AFF");
  BOOST_TEST(info->revoked[1].reason_code == 0);
  BOOST_TEST(info->revoked[2].reason_code == 4);
}

BOOST_AUTO_TEST_CASE(another_ca_does_not_verify_the_crl) {
  ca_fixture ca, other;
  auto der = ca.signer().sign_crl(sample(1));
  CERTCTL_REQUIRE_OK(der);
  BOOST_TEST(!parse_crl(der.value(), other.cert_pem).ok());
  BOOST_TEST(parse_crl(der.value()).ok());
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_before_signing) {
  ca_fixture ca;
  auto signer = ca.signer();
  auto with = [&](auto change) {
    auto c = sample(3);
    change(c);
    return signer.sign_crl(c);
  };
  BOOST_TEST(!with([](crl_content& c) { c.revoked[0].serial_hex = "XYZ"; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.revoked[0].serial_hex = ""; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.revoked[0].serial_hex = std::string(42, 'A'); }).ok());
  BOOST_TEST(with([](crl_content& c) {
               c.revoked[0].serial_hex = "00" + std::string(40, 'A');
             }).ok());  // leading zeros do not count
  BOOST_TEST(!with([](crl_content& c) { c.revoked[0].reason_code = 7; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.revoked[0].reason_code = 11; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.revoked[0].revoked_at = -1; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.next_update = c.this_update; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.crl_number = -1; }).ok());
  BOOST_TEST(!with([](crl_content& c) { c.this_update = 253402300800; }).ok());
  BOOST_TEST(!parse_crl({0x30, 0x03, 0x02, 0x01}).ok());
  BOOST_TEST(!parse_crl({}).ok());
}

BOOST_AUTO_TEST_CASE(openssl_parses_the_crl_and_rejects_a_revoked_leaf) {
  ca_fixture ca;
  t::temp_dir dir;
  auto leaf = ca.leaf();
  t::write_text(dir.file("ca.pem"), ca.cert_pem);
  t::write_text(dir.file("leaf.pem"), leaf.pem);
  auto signer = ca.signer();

  auto empty = sample(1);
  auto before = signer.sign_crl(empty);
  CERTCTL_REQUIRE_OK(before);
  t::write_text(dir.file("crl1.der"), std::string(before->begin(), before->end()));
  auto text = t::run("openssl crl -inform DER -in " + dir.file("crl1.der") + " -noout -text");
  BOOST_TEST_REQUIRE(text.exit_code == 0, text.output);
  BOOST_TEST(text.output.find("X509v3 CRL Number") != std::string::npos, text.output);
  BOOST_TEST(text.output.find("Key Compromise") != std::string::npos, text.output);
  BOOST_TEST(text.output.find("Invalidity Date") != std::string::npos, text.output);
  BOOST_TEST(text.output.find("X509v3 Authority Key Identifier") != std::string::npos);
  auto sig = t::run("openssl crl -inform DER -in " + dir.file("crl1.der") + " -noout -CAfile " +
                    dir.file("ca.pem"));
  BOOST_TEST(sig.exit_code == 0, sig.output);
  BOOST_TEST(sig.output.find("verify OK") != std::string::npos, sig.output);

  t::write_text(dir.file("crl1.pem"), crl_der_to_pem(before.value()));
  const std::string verify =
      "openssl verify -crl_check -CAfile " + dir.file("ca.pem") + " -CRLfile ";
  auto ok = t::run(verify + dir.file("crl1.pem") + " " + dir.file("leaf.pem"));
  BOOST_TEST(ok.exit_code == 0, ok.output);

  auto revoked = sample(2);
  revoked.revoked.push_back({leaf.serial_hex, now_s - 5, 1, 0});
  auto after = signer.sign_crl(revoked);
  CERTCTL_REQUIRE_OK(after);
  t::write_text(dir.file("crl2.pem"), crl_der_to_pem(after.value()));
  auto rejected = t::run(verify + dir.file("crl2.pem") + " " + dir.file("leaf.pem"));
  BOOST_TEST(rejected.exit_code != 0, rejected.output);
  BOOST_TEST(rejected.output.find("certificate revoked") != std::string::npos, rejected.output);
}

BOOST_AUTO_TEST_CASE(responder_certificate_is_a_delegated_ocsp_signer) {
  ca_fixture ca;
  auto creds = ca.signer().issue_ocsp_responder(now_s - 60, now_s + 7 * 86400);
  CERTCTL_REQUIRE_OK(creds);
  auto info = parse_certificate(creds->cert_pem);
  CERTCTL_REQUIRE_OK(info);
  BOOST_TEST(!info->is_ca);
  BOOST_REQUIRE(info->ext_key_usages.size() == 1u);
  BOOST_TEST((info->ext_key_usages[0] == ext_key_usage::ocsp_signing));
  BOOST_TEST(info->common_name == "CRL Test Root OCSP Responder");
  BOOST_TEST(check_key_matches_certificate(creds->key_pem, creds->cert_pem).ok());
  t::temp_dir dir;
  t::write_text(dir.file("r.pem"), creds->cert_pem);
  auto text = t::run("openssl x509 -in " + dir.file("r.pem") + " -noout -text");
  BOOST_TEST(text.output.find("OCSP No Check") != std::string::npos, text.output);
  BOOST_TEST(text.output.find("OCSP Signing") != std::string::npos, text.output);
  // Validity never outlives the CA.
  auto capped = ca.signer().issue_ocsp_responder(now_s, now_s + 5 * 365 * 86400);
  CERTCTL_REQUIRE_OK(capped);
  BOOST_TEST(capped->not_after <= now_s + 365 * 86400);
  BOOST_TEST(!ca.signer().issue_ocsp_responder(now_s, now_s - 1).ok());
}

BOOST_AUTO_TEST_SUITE_END()
