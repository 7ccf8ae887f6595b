// The local CA checked by the openssl CLI (a peer program), and fed CAs the CLI made.
#define BOOST_TEST_MODULE connectors_local_ca_peer
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "connectors/issuers/local/local_ca.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
using namespace certctl::connectors;
using certctl::test::run;
using certctl::test::temp_dir;
using certctl::test::write_text;

namespace {

std::string csr_for(crypto::key_type type, const std::string& cn) {
  auto key = crypto::generate_key(type);
  BOOST_REQUIRE(key.ok());
  auto csr = crypto::build_csr({key->pem, cn, {}});
  CERTCTL_REQUIRE_OK(csr);
  return csr.value();
}

std::unique_ptr<local_ca> self_signed_ca(const temp_dir& tmp) {
  local_ca_config c;
  c.data_dir = tmp.file("data");
  c.pki_base_url = "https://127.0.0.1:8443";
  auto ca = open_local_ca(c);
  CERTCTL_REQUIRE_OK(ca);
  return std::move(ca).value();
}

/// `openssl x509 -text -noout` of a PEM.
std::string x509_text(const temp_dir& tmp, const std::string& pem) {
  write_text(tmp.file("show.pem"), pem);
  auto r = run("openssl x509 -text -noout -in " + tmp.file("show.pem"));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  return r.output;
}

bool has(const std::string& text, const std::string& what) {
  const bool found = text.find(what) != std::string::npos;
  if (!found) BOOST_TEST_MESSAGE("missing \"" << what << "\" in:\n" << text);
  return found;
}

/// Makes a CA with the openssl CLI: a root, and an intermediate with the given extensions.
void make_cli_ca(const temp_dir& tmp, const std::string& intermediate_ext) {
  const std::string d = tmp.path();
  BOOST_REQUIRE(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                    "-keyout " +
                    d + "/root.key -out " + d +
                    "/root.pem -days 30 "
                    "-subj '/CN=CLI Root' -addext 'keyUsage=critical,keyCertSign,cRLSign'")
                    .exit_code == 0);
  write_text(d + "/int.ext", "[v3]\n" + intermediate_ext +
                                 "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
  BOOST_REQUIRE(run("openssl req -new -newkey rsa:2048 -nodes -keyout " + d + "/int.p8 -out " + d +
                    "/int.csr -subj '/CN=CLI Intermediate'")
                    .exit_code == 0);
  auto signed_int = run("openssl x509 -req -in " + d + "/int.csr -CA " + d + "/root.pem -CAkey " +
                        d + "/root.key -CAcreateserial -days 30 -out " + d + "/int.pem -extfile " +
                        d + "/int.ext -extensions v3");
  BOOST_REQUIRE_MESSAGE(signed_int.exit_code == 0, signed_int.output);
  // The operator's key in the traditional "BEGIN RSA PRIVATE KEY" form.
  BOOST_REQUIRE(
      run("openssl rsa -traditional -in " + d + "/int.p8 -out " + d + "/int.key").exit_code == 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_issued_leaf_verifies_and_shows_names_usages_urls_and_a_long_serial) {
  temp_dir tmp;
  auto ca = self_signed_ca(tmp);
  issuance_request r;
  r.csr_pem = csr_for(crypto::key_type::rsa_2048, "app.example.com");
  r.sans = {
      {"app.example.com"}, {"10.0.0.5", "2001:db8::5"}, {"ops@example.com"}, {"urn:example:app"}};
  r.ekus = {crypto::ext_key_usage::server_auth, crypto::ext_key_usage::client_auth};
  r.ttl_us = 7 * 86400LL * 1'000'000;
  auto issued = ca->issue(r);
  CERTCTL_REQUIRE_OK(issued);
  write_text(tmp.file("ca.pem"), ca->ca_chain_pem());
  write_text(tmp.file("leaf.pem"), issued->cert_pem);

  auto verify = run("openssl verify -CAfile " + tmp.file("ca.pem") + " -purpose sslserver " +
                    tmp.file("leaf.pem"));
  BOOST_TEST(verify.exit_code == 0, verify.output);
  BOOST_TEST(has(verify.output, "leaf.pem: OK"));

  const std::string text = x509_text(tmp, issued->cert_pem);
  BOOST_TEST(has(text, "DNS:app.example.com"));
  BOOST_TEST(has(text, "IP Address:10.0.0.5"));
  BOOST_TEST(has(text, "IP Address:2001:DB8:0:0:0:0:0:5"));
  BOOST_TEST(has(text, "email:ops@example.com"));
  BOOST_TEST(has(text, "URI:urn:example:app"));
  BOOST_TEST(has(text,
                 "X509v3 Key Usage: critical\n                Digital Signature, Key "
                 "Encipherment"));
  BOOST_TEST(has(text, "TLS Web Server Authentication, TLS Web Client Authentication"));
  BOOST_TEST(has(text, "CA:FALSE"));
  BOOST_TEST(has(text, "URI:https://127.0.0.1:8443/.well-known/pki/crl/iss-local"));
  BOOST_TEST(has(text, "OCSP - URI:https://127.0.0.1:8443/.well-known/pki/ocsp/iss-local"));
  BOOST_TEST(has(text, "X509v3 Subject Key Identifier"));
  BOOST_TEST(has(text, "X509v3 Authority Key Identifier"));
  BOOST_TEST(has(text, "Signature Algorithm: ecdsa-with-SHA256"));  // P-256 root by default

  write_text(tmp.file("leaf.pem"), issued->cert_pem);
  auto serial = run("openssl x509 -noout -serial -in " + tmp.file("leaf.pem"));
  BOOST_REQUIRE(serial.exit_code == 0);
  const std::string hex = serial.output.substr(serial.output.find('=') + 1, 32);
  BOOST_TEST(hex == issued->serial_hex);
  BOOST_TEST(hex.size() * 4 >= 64u);
}

BOOST_AUTO_TEST_CASE(key_usage_follows_the_extended_key_usages) {
  temp_dir tmp;
  auto ca = self_signed_ca(tmp);
  struct expectation {
    crypto::ext_key_usage eku;
    const char* key_usage;
    const char* eku_text;
  };
  const expectation cases[] = {
      {crypto::ext_key_usage::server_auth, "Digital Signature\n", "TLS Web Server Authentication"},
      {crypto::ext_key_usage::email_protection, "Digital Signature, Non Repudiation\n",
       "E-mail Protection"},
      {crypto::ext_key_usage::code_signing, "Digital Signature\n", "Code Signing"},
      {crypto::ext_key_usage::time_stamping, "Digital Signature\n", "Time Stamping"},
      {crypto::ext_key_usage::ocsp_signing, "Digital Signature\n", "OCSP Signing"}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(crypto::to_string(c.eku)) {
      issuance_request r;
      r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "eku.example");
      r.ekus = {c.eku};
      auto issued = ca->issue(r);
      CERTCTL_REQUIRE_OK(issued);
      const std::string text = x509_text(tmp, issued->cert_pem);
      // EC keys never get keyEncipherment (RFC 5480), whatever the EKU.
      BOOST_TEST(
          has(text, std::string("X509v3 Key Usage: critical\n                ") + c.key_usage));
      BOOST_TEST(has(text, c.eku_text));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_server_certificate_verifies_for_its_host_names) {
  temp_dir tmp;
  auto ca = self_signed_ca(tmp);
  auto creds = ca->issue_server_certificate({"localhost", "127.0.0.1"});
  CERTCTL_REQUIRE_OK(creds);
  write_text(tmp.file("ca.pem"), creds->chain_pem);
  write_text(tmp.file("server.pem"), creds->cert_pem);
  const std::string base = "openssl verify -CAfile " + tmp.file("ca.pem") + " -purpose sslserver ";
  BOOST_TEST(run(base + "-verify_hostname localhost " + tmp.file("server.pem")).exit_code == 0);
  BOOST_TEST(run(base + "-verify_ip 127.0.0.1 " + tmp.file("server.pem")).exit_code == 0);
  BOOST_TEST(run(base + "-verify_hostname other.example " + tmp.file("server.pem")).exit_code != 0);
}

BOOST_AUTO_TEST_CASE(sub_ca_mode_with_an_openssl_made_intermediate_issues_verifiable_chains) {
  temp_dir tmp;
  make_cli_ca(tmp,
              "basicConstraints=critical,CA:TRUE,pathlen:0\n"
              "keyUsage=critical,keyCertSign,cRLSign");
  // The operator's file holds the intermediate followed by the root.
  write_text(tmp.file("bundle.pem"),
             test::read_text(tmp.file("int.pem")) + test::read_text(tmp.file("root.pem")));
  local_ca_config c;
  c.ca_cert_path = tmp.file("bundle.pem");
  c.ca_key_path = tmp.file("int.key");
  c.issuer_id = "iss-corp";
  c.pki_base_url = "http://pki.example";
  auto ca = open_local_ca(c);
  CERTCTL_REQUIRE_OK(ca);
  BOOST_TEST(!ca.value()->self_signed());

  issuance_request r;
  r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "svc.corp.example");
  r.sans.dns = {"svc.corp.example"};
  auto issued = ca.value()->issue(r);
  CERTCTL_REQUIRE_OK(issued);
  write_text(tmp.file("leaf.pem"), issued->cert_pem);
  write_text(tmp.file("chain.pem"), issued->chain_pem);
  auto verify = run("openssl verify -CAfile " + tmp.file("root.pem") + " -untrusted " +
                    tmp.file("chain.pem") + " " + tmp.file("leaf.pem"));
  BOOST_TEST(verify.exit_code == 0, verify.output);
  const std::string text = x509_text(tmp, issued->cert_pem);
  BOOST_TEST(has(text, "Issuer: CN = CLI Intermediate"));
  BOOST_TEST(has(text, "Signature Algorithm: sha256WithRSAEncryption"));
  BOOST_TEST(has(text, "URI:http://pki.example/.well-known/pki/crl/iss-corp"));

  // The PKCS#8 form of the same key works too.
  c.ca_key_path = tmp.file("int.p8");
  CERTCTL_REQUIRE_OK(open_local_ca(c));
}

BOOST_AUTO_TEST_CASE(sub_ca_mode_accepts_an_encrypted_key_with_its_passphrase) {
  temp_dir tmp;
  make_cli_ca(tmp, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign");
  BOOST_REQUIRE(run("openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:pw -in " +
                    tmp.file("int.p8") + " -out " + tmp.file("int.enc"))
                    .exit_code == 0);
  local_ca_config c;
  c.ca_cert_path = tmp.file("int.pem");
  c.ca_key_path = tmp.file("int.enc");
  auto no_pass = open_local_ca(c);
  BOOST_REQUIRE(!no_pass.ok());
  BOOST_TEST(has(no_pass.error().message, "ca_key_path " + tmp.file("int.enc")));
  BOOST_TEST(has(no_pass.error().message, "no passphrase"));
  c.ca_key_passphrase = "pw";
  CERTCTL_REQUIRE_OK(open_local_ca(c));
}

BOOST_AUTO_TEST_CASE(sub_ca_mode_refuses_openssl_made_certificates_that_cannot_sign) {
  temp_dir tmp;
  make_cli_ca(tmp, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature");
  local_ca_config c;
  c.ca_cert_path = tmp.file("int.pem");
  c.ca_key_path = tmp.file("int.key");
  auto no_cert_sign = open_local_ca(c);
  BOOST_REQUIRE(!no_cert_sign.ok());
  BOOST_TEST(has(no_cert_sign.error().message, "ca_cert_path " + tmp.file("int.pem")));
  BOOST_TEST(has(no_cert_sign.error().message, "keyUsage lacks keyCertSign"));

  make_cli_ca(tmp, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature");
  auto leaf = open_local_ca(c);
  BOOST_REQUIRE(!leaf.ok());
  BOOST_TEST(has(leaf.error().message, "basicConstraints CA:TRUE is missing"));

  // A valid CA certificate with somebody else's key.
  make_cli_ca(tmp, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign");
  c.ca_key_path = tmp.file("root.key");
  auto mismatch = open_local_ca(c);
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST(has(mismatch.error().message, "does not match the certificate"));
}

BOOST_AUTO_TEST_CASE(sub_ca_mode_refuses_a_ca_key_file_that_group_or_others_can_read) {
  temp_dir tmp;
  make_cli_ca(tmp, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign");
  local_ca_config c;
  c.ca_cert_path = tmp.file("int.pem");
  c.ca_key_path = tmp.file("int.key");
  for (const auto& [mode, octal] : {std::pair<mode_t, const char*>{0640, "0640"},
                                    {0604, "0604"},
                                    {0644, "0644"},
                                    {0660, "0660"}}) {
    BOOST_REQUIRE(::chmod(c.ca_key_path.c_str(), mode) == 0);
    auto exposed = open_local_ca(c);
    BOOST_REQUIRE_MESSAGE(!exposed.ok(), "a CA key with mode " << octal << " was accepted");
    const std::string& m = exposed.error().message;
    BOOST_TEST(has(m, "ca_key_path " + tmp.file("int.key") + " (CERTCTL_CA_KEY_PATH)"), m);
    BOOST_TEST(has(m, std::string("group or others (mode ") + octal + ")"), m);
    BOOST_TEST(has(m, "chmod 600"), m);
  }
  // Owner-only modes load, and so does a symlink (a mounted secret) to an owner-only file.
  for (mode_t mode : {0600, 0400}) {
    BOOST_REQUIRE(::chmod(c.ca_key_path.c_str(), mode) == 0);
    CERTCTL_REQUIRE_OK(open_local_ca(c));
  }
  BOOST_REQUIRE(::symlink(c.ca_key_path.c_str(), tmp.file("linked.key").c_str()) == 0);
  c.ca_key_path = tmp.file("linked.key");
  CERTCTL_REQUIRE_OK(open_local_ca(c));
  BOOST_REQUIRE(::chmod(tmp.file("int.key").c_str(), 0644) == 0);
  BOOST_TEST(!open_local_ca(c).ok(), "a link to a world-readable key was accepted");
}
