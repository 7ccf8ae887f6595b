// ADCS sub-CA mode (docs/runbooks/adcs.md) done for real, with an `openssl ca` enterprise root
// standing in for Active Directory Certificate Services: the server's key and CSR made with
// openssl as the runbook says, the CSR signed by the root with the extensions ADCS's SubCA
// template writes (basicConstraints CA:TRUE critical, keyUsage digitalSignature + keyCertSign
// + cRLSign critical, the certificate-template name "SubCA", CA version, SKI/AKI, CDP and AIA
// pointing at the enterprise PKI), the server started on it through CERTCTL_CA_CERT_PATH /
// CERTCTL_CA_KEY_PATH, a leaf issued through the REST API and `openssl verify`-ed up to the
// root, then the sub-CA's own CRL and OCSP answers checked with the openssl CLI after a
// revocation.
#define BOOST_TEST_MODULE integration_adcs_subca
#include <boost/test/unit_test.hpp>
#include <regex>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int pki_port(const server_process& server) {
  std::smatch m;
  const std::string logs = server.logs();
  BOOST_REQUIRE_MESSAGE(
      std::regex_search(logs, m,
                        std::regex("PKI \\(CRL, OCSP\\) on http://127\\.0\\.0\\.1:(\\d+)")),
      logs);
  return std::stoi(m[1]);
}

/// The enterprise root and the SubCA-template extensions, as an openssl config.
const char* root_config = R"([ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Corp Enterprise Root CA
DC = corp
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
# What ADCS's SubCA (version 1) template puts in the certificate it issues.
[ subca_template ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://pki.corp.example/CertEnroll/Corp%20Enterprise%20Root%20CA.crl
authorityInfoAccess = caIssuers;URI:http://pki.corp.example/CertEnroll/corp-root.crt
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:SubCA
1.3.6.1.4.1.311.21.1 = ASN1:INTEGER:0
)";

struct adcs_fixture {
  temp_dir dir;
  std::string path(const std::string& name) const { return dir.path + "/" + name; }

  void run(const std::string& command) {
    auto r = run_command(command);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, command + "\n" + r.out);
  }

  /// The runbook's steps 1-3: root (ADCS), the sub-CA key and CSR, the CSR signed by the root
  /// with the SubCA template, the issued certificate installed with its chain.
  void make_hierarchy() {
    write_file(path("openssl.cnf"), root_config);
    run("openssl req -x509 -new -newkey rsa:3072 -nodes -sha256 -days 3650 -config " +
        path("openssl.cnf") + " -extensions root_ext -keyout " + path("root.key") + " -out " +
        path("root.pem") + " 2>&1");
    // Step 1 of the runbook: the sub-CA's key and CSR (P-384; kept on the certctl host).
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout " +
        path("subca.key") + " -subj '/DC=corp/CN=certctl Issuing CA 1' -out " + path("subca.csr") +
        " 2>&1");
    run("chmod 600 " + path("subca.key"));
    // Step 2, ADCS's side: `certreq -submit -attrib "CertificateTemplate:SubCA"`.
    run("openssl x509 -req -in " + path("subca.csr") + " -CA " + path("root.pem") + " -CAkey " +
        path("root.key") + " -CAcreateserial -sha256 -days 1825 -extfile " + path("openssl.cnf") +
        " -extensions subca_template -out " + path("subca.pem") + " 2>&1");
    // Step 3: the certificate file holds the sub-CA first, then its issuer.
    write_file(path("subca-chain.pem"), read_file(path("subca.pem")) + read_file(path("root.pem")));
  }

  server_options options() const {
    server_options o;
    o.extra_env["CERTCTL_CA_CERT_PATH"] = path("subca-chain.pem");
    o.extra_env["CERTCTL_CA_KEY_PATH"] = path("subca.key");
    o.extra_env["CERTCTL_PKI_HTTP_PORT"] = "0";
    return o;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_sub_ca_of_an_enterprise_root_issues_chains_that_verify_to_the_root,
                        adcs_fixture) {
  make_hierarchy();
  // What the SubCA template set is really in the certificate.
  auto text = run_command("openssl x509 -in " + path("subca.pem") + " -noout -text");
  BOOST_REQUIRE(text.exit_code == 0);
  BOOST_TEST(contains(text.out, "CA:TRUE"), text.out);
  BOOST_TEST(contains(text.out, "Certificate Sign, CRL Sign"), text.out);
  BOOST_TEST(contains(text.out, "1.3.6.1.4.1.311.20.2"), text.out);

  server_process server(dir.path + "/data", options());
  api client(server);
  const std::string id =
      issue_active(client, certificate_body("adcs leaf", "app.corp.example", {"app.corp.example"}));
  auto pem = client.get("/api/v1/certificates/" + id + "/export/pem");
  BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
  write_file(path("leaf.pem"), str(pem.json(), "cert_pem"));
  const std::string chain = str(pem.json(), "chain_pem");
  BOOST_TEST(contains(chain, read_file(path("subca.pem")).substr(28, 64)), chain);
  BOOST_TEST(contains(chain, read_file(path("root.pem")).substr(28, 64)), chain);

  // A relying party that trusts only the enterprise root accepts the leaf through the sub-CA.
  auto verified = run_command("openssl verify -CAfile " + path("root.pem") + " -untrusted " +
                              path("subca.pem") + " " + path("leaf.pem"));
  BOOST_TEST(verified.exit_code == 0, verified.out);
  // And not without the sub-CA: the leaf is not signed by the root itself.
  auto direct = run_command("openssl verify -CAfile " + path("root.pem") + " " + path("leaf.pem"));
  BOOST_TEST(direct.exit_code != 0, direct.out);
  auto issuer = run_command("openssl x509 -in " + path("leaf.pem") + " -noout -issuer");
  BOOST_TEST(contains(issuer.out, "certctl Issuing CA 1"), issuer.out);

  // CRL and OCSP are the sub-CA's: revoke, then both say so.
  auto revoked =
      client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  wait_for_certificate(client, id, {"Revoked"}, std::chrono::seconds(30), revoked.position());
  const std::string pki = "http://127.0.0.1:" + std::to_string(pki_port(server));
  httplib::Client http("127.0.0.1", pki_port(server));
  auto crl = http.Get("/.well-known/pki/crl/iss-local");
  BOOST_REQUIRE(crl);
  BOOST_REQUIRE_EQUAL(crl->status, 200);
  write_file(path("crl.der"), crl->body);
  write_file(path("trust.pem"), read_file(path("subca.pem")) + read_file(path("root.pem")));
  auto crl_pem = run_command("openssl crl -inform DER -in " + path("crl.der") + " -out " +
                             path("crl.pem") + " -CAfile " + path("trust.pem") + " 2>&1");
  BOOST_TEST(contains(crl_pem.out, "verify OK"), crl_pem.out);  // signed by the sub-CA
  auto with_crl = run_command("openssl verify -crl_check -CAfile " + path("root.pem") +
                              " -untrusted " + path("subca.pem") + " -CRLfile " + path("crl.pem") +
                              " " + path("leaf.pem") + " 2>&1");
  BOOST_TEST(with_crl.exit_code != 0);
  BOOST_TEST(contains(with_crl.out, "certificate revoked"), with_crl.out);

  auto ocsp = run_command("openssl ocsp -issuer " + path("subca.pem") + " -cert " +
                          path("leaf.pem") + " -url " + pki + "/.well-known/pki/ocsp/iss-local" +
                          " -CAfile " + path("trust.pem") + " 2>&1");
  BOOST_TEST(ocsp.exit_code == 0, ocsp.out);
  BOOST_TEST(contains(ocsp.out, "Response verify OK"), ocsp.out);
  BOOST_TEST(contains(ocsp.out, "revoked"), ocsp.out);
}

BOOST_FIXTURE_TEST_CASE(a_certificate_adcs_issued_without_the_ca_flag_is_refused_at_start,
                        adcs_fixture) {
  make_hierarchy();
  // A wrong template (a web-server certificate for the CA's key): the server must not start.
  write_file(path("leafext.cnf"),
             "[ e ]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n");
  run("openssl x509 -req -in " + path("subca.csr") + " -CA " + path("root.pem") + " -CAkey " +
      path("root.key") + " -CAcreateserial -days 30 -extfile " + path("leafext.cnf") +
      " -extensions e -out " + path("notca.pem") + " 2>&1");
  const std::string binary = std::string(CERTCTL_BINARY_DIR) + "/tools/server/certctl-server";
  auto r = run_command("CERTCTL_DATA_DIR=" + path("data2") + " CERTCTL_CA_CERT_PATH=" +
                       path("notca.pem") + " CERTCTL_CA_KEY_PATH=" + path("subca.key") +
                       " CERTCTL_SERVER_PORT=0 timeout 20 " + binary + " 2>&1");
  BOOST_TEST(r.exit_code != 0, r.out);
  BOOST_TEST((contains(r.out, "CERTCTL_CA_CERT_PATH") || contains(r.out, "ca_cert_path")), r.out);
}
