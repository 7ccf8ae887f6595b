// Interoperability with the openssl CLI: keys it writes in older formats, PKCS#12 it reads.
#define BOOST_TEST_MODULE infra_crypto_peer
#include <boost/test/unit_test.hpp>

#include <ctime>

#include "infra/crypto/keys.hpp"
#include "infra/crypto/pkcs12.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;
using certctl::test::read_text;
using certctl::test::run;
using certctl::test::temp_dir;

BOOST_AUTO_TEST_CASE(traditional_and_encrypted_keys_written_by_openssl_parse) {
  temp_dir tmp;
  const std::string rsa = tmp.file("rsa.pem");
  const std::string ec = tmp.file("ec.pem");
  const std::string enc = tmp.file("enc.pem");
  BOOST_REQUIRE(run("openssl genrsa -traditional -out " + rsa + " 2048").exit_code == 0);
  BOOST_REQUIRE(run("openssl ecparam -name secp384r1 -genkey -noout -out " + ec).exit_code == 0);
  BOOST_REQUIRE(
      run("openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:s3cret -in " + ec + " -out " + enc)
          .exit_code == 0);
  BOOST_REQUIRE(read_text(rsa).find("BEGIN RSA PRIVATE KEY") != std::string::npos);
  BOOST_REQUIRE(read_text(ec).find("BEGIN EC PRIVATE KEY") != std::string::npos);

  auto r = parse_private_key(read_text(rsa));
  CERTCTL_REQUIRE_OK(r);
  BOOST_TEST(r->public_key.algorithm == "RSA");
  BOOST_TEST(r->pem.find("BEGIN PRIVATE KEY") != std::string::npos);  // normalised to PKCS#8

  auto e = parse_private_key(read_text(ec));
  BOOST_REQUIRE(e.ok());
  BOOST_TEST(e->public_key.curve == "P-384");

  auto no_pass = parse_private_key(read_text(enc));
  BOOST_REQUIRE(!no_pass.ok());
  BOOST_TEST(no_pass.error().message.find("no passphrase was given") != std::string::npos);
  auto wrong = parse_private_key(read_text(enc), "nope");
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().message.find("wrong passphrase") != std::string::npos);
  auto right = parse_private_key(read_text(enc), "s3cret");
  BOOST_REQUIRE(right.ok());
  BOOST_TEST(right->public_key.sha256_hex == e->public_key.sha256_hex);
}

BOOST_AUTO_TEST_CASE(an_exported_pkcs12_opens_with_the_openssl_cli_and_uses_modern_algorithms) {
  temp_dir tmp;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto ca_key = generate_key();
  certificate_template ca;
  ca.subject.common_name = "P12 Root";
  ca.not_before = now - 60;
  ca.not_after = now + 86400;
  ca.is_ca = true;
  auto ca_pem = self_sign(ca_key->pem, ca);
  BOOST_REQUIRE(ca_pem.ok());
  auto signer = certificate_signer::create(ca_pem.value(), ca_key->pem);
  BOOST_REQUIRE(signer.ok());
  auto key = generate_key(key_type::rsa_2048);
  certificate_template leaf;
  leaf.public_key_der = key->public_key.spki_der;
  leaf.subject.common_name = "p12.example";
  leaf.sans.dns = {"p12.example"};
  leaf.not_before = now;
  leaf.not_after = now + 3600;
  auto leaf_pem = signer->sign(leaf);
  BOOST_REQUIRE(leaf_pem.ok());

  BOOST_TEST(!export_pkcs12({key->pem, leaf_pem.value(), ca_pem.value(), "", "x"}).ok());
  BOOST_TEST(!export_pkcs12({ca_key->pem, leaf_pem.value(), "", "x", "x"}).ok());  // mismatch

  auto p12 = export_pkcs12({key->pem, leaf_pem.value(), ca_pem.value(), "x", "my-alias"});
  CERTCTL_REQUIRE_OK(p12);
  const std::string path = tmp.file("bundle.p12");
  certctl::test::write_text(path, std::string(p12->begin(), p12->end()));

  auto certs = run("openssl pkcs12 -in " + path + " -passin pass:x -nokeys");
  BOOST_REQUIRE_MESSAGE(certs.exit_code == 0, certs.output);
  BOOST_TEST(certs.output.find("subject=CN = p12.example") != std::string::npos);
  BOOST_TEST(certs.output.find("subject=CN = P12 Root") != std::string::npos);
  BOOST_TEST(certs.output.find("friendlyName: my-alias") != std::string::npos);

  auto keys = run("openssl pkcs12 -in " + path + " -passin pass:x -nocerts -nodes");
  BOOST_REQUIRE(keys.exit_code == 0);
  BOOST_TEST(keys.output.find("BEGIN PRIVATE KEY") != std::string::npos);

  auto info = run("openssl pkcs12 -in " + path + " -passin pass:x -info -noout");
  BOOST_TEST(info.output.find("MAC: sha256") != std::string::npos, info.output);
  BOOST_TEST(info.output.find("AES-256-CBC") != std::string::npos, info.output);

  BOOST_TEST(run("openssl pkcs12 -in " + path + " -passin pass:wrong -nokeys").exit_code != 0);
}
