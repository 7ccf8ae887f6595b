// PKCS#7 certs-only, CMS EnvelopedData, client trust bundles and the CSR challengePassword:
// round trips in process, plus the refusals of malformed or foreign input.
#include <boost/test/unit_test.hpp>

#include <ctime>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/cms_envelope.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/pkcs7_certs.hpp"
#include "infra/crypto/signer.hpp"
#include "infra/crypto/trust_bundle.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;

namespace {

const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));

struct issued {
  std::string key_pem;
  std::string cert_pem;
  bytes cert_der;
};

issued make_root(const std::string& cn) {
  auto key = generate_key(key_type::ecdsa_p256);
  BOOST_REQUIRE(key.ok());
  certificate_template t;
  t.subject.common_name = cn;
  t.is_ca = true;
  t.not_before = now_s - 60;
  t.not_after = now_s + 86400;
  auto pem = self_sign(key->pem, t);
  CERTCTL_REQUIRE_OK(pem);
  auto der = certificate_pem_to_der(*pem);
  CERTCTL_REQUIRE_OK(der);
  return {key->pem, *pem, *der};
}

issued make_leaf(const issued& ca, key_type type, const std::string& cn,
                 std::int64_t not_after = now_s + 3600) {
  auto key = generate_key(type);
  BOOST_REQUIRE(key.ok());
  auto signer = certificate_signer::create(ca.cert_pem, ca.key_pem);
  CERTCTL_REQUIRE_OK(signer);
  certificate_template t;
  t.public_key_der = key->public_key.spki_der;
  t.subject.common_name = cn;
  t.sans.dns = {cn};
  t.ext_key_usages = {ext_key_usage::client_auth};
  t.not_before = now_s - 60;
  t.not_after = not_after;
  auto pem = signer->sign(t);
  CERTCTL_REQUIRE_OK(pem);
  auto der = certificate_pem_to_der(*pem);
  CERTCTL_REQUIRE_OK(der);
  return {key->pem, *pem, *der};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pkcs7_and_cms)

BOOST_AUTO_TEST_CASE(a_certs_only_message_carries_the_chain_in_order) {
  const auto root = make_root("P7 Root");
  const auto leaf = make_leaf(root, key_type::ecdsa_p256, "p7.example.test");
  auto p7 = pkcs7_certs_only({leaf.cert_der, root.cert_der});
  CERTCTL_REQUIRE_OK(p7);
  auto back = pkcs7_certificates(*p7);
  CERTCTL_REQUIRE_OK(back);
  BOOST_REQUIRE(back->size() == 2u);
  BOOST_TEST((back->at(0) == leaf.cert_der));
  BOOST_TEST((back->at(1) == root.cert_der));
  auto from_pem = pkcs7_certs_only_pem(leaf.cert_pem + root.cert_pem);
  CERTCTL_REQUIRE_OK(from_pem);
  BOOST_TEST((*from_pem == *p7));
}

BOOST_AUTO_TEST_CASE(pkcs7_input_that_is_not_a_certs_only_signed_data_is_refused) {
  BOOST_TEST(!pkcs7_certs_only({}).ok());
  BOOST_TEST(!pkcs7_certs_only({bytes{0x30, 0x03, 0x02, 0x01, 0x01}}).ok());
  BOOST_TEST(!pkcs7_certs_only_pem("no pem here").ok());
  BOOST_TEST(!pkcs7_certificates({}).ok());
  BOOST_TEST(!pkcs7_certificates(bytes{0x30, 0x80, 0x00}).ok());
  BOOST_TEST(!pkcs7_certificates(bytes(max_pkcs7_size + 1, 0x30)).ok());
  // An EnvelopedData is CMS but not a SignedData.
  const auto root = make_root("Env Root");
  const auto rsa = make_leaf(root, key_type::rsa_2048, "rsa.example.test");
  auto env = cms_envelope_for_certificate("secret", rsa.cert_der);
  CERTCTL_REQUIRE_OK(env);
  auto wrong = pkcs7_certificates(*env);
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().message.find("SignedData") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_envelope_opens_only_with_the_recipients_key) {
  const auto root = make_root("Env Root");
  for (auto type : {key_type::rsa_2048, key_type::ecdsa_p256}) {
    const auto to = make_leaf(root, type, "to.example.test");
    const auto other = make_leaf(root, type, "other.example.test");
    const std::string content("\x30\x82 binary\0 key bytes", 20);
    auto env = cms_envelope_for_certificate(content, to.cert_der);
    CERTCTL_REQUIRE_OK(env);
    auto opened = cms_decrypt(*env, to.key_pem);
    CERTCTL_REQUIRE_OK(opened);
    BOOST_TEST(*opened == content);
    BOOST_TEST(!cms_decrypt(*env, other.key_pem).ok());
  }
}

BOOST_AUTO_TEST_CASE(an_envelope_to_a_bare_public_key_opens_with_that_key) {
  for (auto type : {key_type::rsa_2048, key_type::ecdsa_p256}) {
    auto key = generate_key(type);
    BOOST_REQUIRE(key.ok());
    auto env = cms_envelope_for_public_key("pkcs8 bytes", key->public_key.spki_der);
    CERTCTL_REQUIRE_OK(env);
    auto opened = cms_decrypt(*env, key->pem);
    CERTCTL_REQUIRE_OK(opened);
    BOOST_TEST(*opened == "pkcs8 bytes");
  }
  BOOST_TEST(!cms_envelope_for_public_key("x", bytes{1, 2, 3}).ok());
  BOOST_TEST(!cms_decrypt(bytes{0x30, 0x00}, generate_key(key_type::ecdsa_p256)->pem).ok());
}

BOOST_AUTO_TEST_CASE(a_trust_bundle_admits_chains_to_its_roots_only) {
  const auto root = make_root("Bundle Root");
  const auto rogue = make_root("Rogue Root");
  auto bundle = trust_bundle::from_pem(root.cert_pem, now_s);
  CERTCTL_REQUIRE_OK(bundle);
  BOOST_TEST((*bundle)->size() == 1u);
  BOOST_TEST((*bundle)->subjects().at(0) == "CN=Bundle Root");
  const auto good = make_leaf(root, key_type::ecdsa_p256, "good.example.test");
  const auto bad = make_leaf(rogue, key_type::ecdsa_p256, "bad.example.test");
  BOOST_TEST((*bundle)->verify_client({good.cert_der}, now_s).ok());
  BOOST_TEST(!(*bundle)->verify_client({bad.cert_der}, now_s).ok());
  BOOST_TEST(!(*bundle)->verify_client({}, now_s).ok());
  // Expired by the time it is presented.
  BOOST_TEST(!(*bundle)->verify_client({good.cert_der}, now_s + 7200).ok());
  BOOST_TEST(!trust_bundle::from_pem("nothing", now_s).ok());
  auto expired = trust_bundle::from_pem(root.cert_pem, now_s + 2 * 86400);
  BOOST_REQUIRE(!expired.ok());
  BOOST_TEST(expired.error().message.find("expired") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
