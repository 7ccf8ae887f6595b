// Real SCEP clients against the SCEP server (LABEL peer): micromdm's scepclient (Debian `scep`)
// enrolls with a challenge password, renews with the certificate it got (RenewalReq), and is
// refused with a wrong challenge; certmonger's scep-submit reads GetCACaps and GetCACert.
// A missing client program skips its test (exit 77) with a message, nothing else does.
#define BOOST_TEST_MODULE peer_scep
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iostream>

#include "tests/integration/api.hpp"
#include "tests/integration/server_process.hpp"

using namespace certctl;
using namespace certctl::integration;
using testing::shell_quote;

namespace {

constexpr const char* scep_submit = "/usr/lib/certmonger/scep-submit";

struct peer_server {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  peer_server() {
    server_options o;
    o.keygen_mode = "agent";
    o.extra_env["CERTCTL_SCEP_PROFILES"] = "devices";
    o.extra_env["CERTCTL_SCEP_PROFILE_DEVICES_ISSUER_ID"] = "iss-local";
    o.extra_env["CERTCTL_SCEP_PROFILE_DEVICES_CHALLENGE_PASSWORD"] = "enroll-me";
    server = std::make_unique<server_process>(dir.path + "/data", o);
  }
  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(server->port()) + "/scep/devices";
  }
  /// SHA-256 of the RA certificate (the first of GetCACert), which scepclient encrypts to.
  std::string ra_fingerprint() {
    auto r = run_command("curl -sf --cacert " + shell_quote(server->ca_bundle()) + " " +
                         shell_quote(url() + "?operation=GetCACert") +
                         " | openssl pkcs7 -inform DER -print_certs"
                         " | awk '/BEGIN/{n++} n==1' | openssl x509 -outform DER"
                         " | sha256sum | cut -d' ' -f1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0 && r.out.size() >= 64, r.out);
    return r.out.substr(0, 64);
  }
  /// scepclient in `sub`: a key, a CSR and (after enrollment) the certificate live there.
  testing::process_result scepclient(const std::string& sub, const std::string& cn,
                                     const std::string& challenge) {
    const std::string d = dir.path + "/" + sub;
    run_command("mkdir -p " + shell_quote(d));
    return run_command("SSL_CERT_FILE=" + shell_quote(server->ca_bundle()) +
                       " timeout 120 scepclient -server-url " + shell_quote(url()) +
                       (challenge.empty() ? "" : " -challenge " + shell_quote(challenge)) +
                       " -cn " + shell_quote(cn) + " -private-key " + shell_quote(d + "/key.pem") +
                       " -certificate " + shell_quote(d + "/cert.pem") + " -ca-fingerprint " +
                       ra_fingerprint() + " 2>&1");
  }
};

std::string serial_of(const std::string& cert) {
  return run_command("openssl x509 -noout -serial -in " + shell_quote(cert)).out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scep_peers)

BOOST_AUTO_TEST_CASE(scepclient_enrolls_renews_and_is_refused_a_wrong_challenge) {
  peer_server s;
  const std::string cert = s.dir.path + "/dev/cert.pem";
  auto enrolled = s.scepclient("dev", "kiosk-12", "enroll-me");
  BOOST_REQUIRE_MESSAGE(enrolled.exit_code == 0, enrolled.out + s.server->logs());
  auto v = run_command("openssl verify -CAfile " + shell_quote(s.server->ca_bundle()) + " " +
                       shell_quote(cert));
  BOOST_TEST(v.exit_code == 0, v.out);
  auto subject = run_command("openssl x509 -noout -subject -in " + shell_quote(cert));
  BOOST_TEST(subject.out.find("kiosk-12") != std::string::npos, subject.out);
  const std::string first = serial_of(cert);

  // With the certificate present, scepclient sends a RenewalReq signed by it (no challenge).
  auto renewed = s.scepclient("dev", "kiosk-12", "");
  BOOST_REQUIRE_MESSAGE(renewed.exit_code == 0, renewed.out + s.server->logs());
  BOOST_TEST(serial_of(cert) != first);
  v = run_command("openssl verify -CAfile " + shell_quote(s.server->ca_bundle()) + " " +
                  shell_quote(cert));
  BOOST_TEST(v.exit_code == 0, v.out);

  // Both versions belong to one certctl certificate, source SCEP, in the inventory.
  api client(*s.server);
  auto list = client.get("/api/v1/certificates?per_page=100");
  BOOST_REQUIRE_EQUAL(list.status, 200);
  auto doc = list.json();
  int scep_certs = 0;
  std::string id;
  for (const auto& c : doc["data"].GetArray())
    if (str(c, "common_name") == "kiosk-12") {
      ++scep_certs;
      id = str(c, "id");
    }
  BOOST_REQUIRE_EQUAL(scep_certs, 1);
  auto versions = client.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_EQUAL(versions.status, 200);
  BOOST_TEST(versions.json()["total"].GetInt() == 2, versions.body);

  auto refused = s.scepclient("intruder", "kiosk-13", "not-the-password");
  BOOST_TEST(refused.exit_code != 0);
  BOOST_TEST(refused.out.find("failInfo") != std::string::npos, refused.out);
  BOOST_TEST(!std::ifstream(s.dir.path + "/intruder/cert.pem").good());
}

BOOST_AUTO_TEST_CASE(certmonger_scep_submit_reads_caps_and_ca_certificates) {
  peer_server s;
  const std::string common = std::string(scep_submit) + " -u " + shell_quote(s.url()) + " -R " +
                             shell_quote(s.server->ca_bundle());
  auto caps = run_command(common + " -c 2>&1");
  BOOST_REQUIRE_MESSAGE(caps.exit_code == 0, caps.out);
  for (const char* cap : {"POSTPKIOperation", "SHA-256", "AES", "SCEPStandard", "Renewal"})
    BOOST_TEST(caps.out.find(cap) != std::string::npos, caps.out);
  auto certs = run_command(common + " -C 2>&1");
  BOOST_REQUIRE_MESSAGE(certs.exit_code == 0, certs.out);
  write_file(s.dir.path + "/ca-certs.pem", certs.out);
  auto subjects = run_command("openssl crl2pkcs7 -nocrl -certfile " +
                              shell_quote(s.dir.path + "/ca-certs.pem") +
                              " | openssl pkcs7 -print_certs -noout");
  BOOST_TEST(subjects.out.find("certctl SCEP RA devices") != std::string::npos, subjects.out);
  BOOST_TEST(subjects.out.find("certctl Local Root CA") != std::string::npos, subjects.out);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char* argv[]) {
  // The client a run needs follows from its --run_test filter (one ctest entry per client).
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.find("--run_test=") != 0) continue;
    const char* program = arg.find("certmonger") != std::string::npos ? scep_submit : "scepclient";
    if (run_command(std::string("command -v ") + program + " >/dev/null").exit_code != 0) {
      std::cout << "SKIP: " << program << " is not installed (apt-get install "
                << (arg.find("certmonger") != std::string::npos ? "certmonger" : "scep") << ")\n";
      return 77;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
