// End to end with server-side key generation: the built server issues, exports, renews and
// revokes a certificate; the results are checked with the openssl CLI and the audit tool, as an
// operator would check them.
#define BOOST_TEST_MODULE integration_api
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <memory>
#include <set>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> serials_of(api& client, const std::string& id) {
  auto r = client.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  std::vector<std::string> out;
  for (const auto& v : doc["data"].GetArray()) out.push_back(str(v, "serial_number"));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_keygen)

BOOST_AUTO_TEST_CASE(issue_export_renew_revoke) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api client(server);

  auto policy =
      client.post("/api/v1/renewal-policies", R"({"name":"it-policy","renewal_window_days":30})");
  BOOST_REQUIRE_MESSAGE(policy.status == 201, policy.describe());
  const std::string policy_id = str(policy.json(), "id");

  // Issued: one version, Active.
  const std::string id = issue_active(
      client,
      certificate_body("web", "app.example.test", {"app.example.test", "192.0.2.10"}, policy_id));
  const auto first_serials = serials_of(client, id);
  BOOST_REQUIRE_EQUAL(first_serials.size(), 1u);

  // PEM export verifies against the CA bundle and carries the profile's extensions.
  auto pem = client.get("/api/v1/certificates/" + id + "/export/pem");
  BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
  auto pem_doc = pem.json();
  const std::string leaf = dir.path + "/leaf.pem";
  write_file(leaf, str(pem_doc, "cert_pem"));
  std::string verify = "openssl verify -CAfile " + shell_quote(server.ca_bundle());
  if (!str(pem_doc, "chain_pem").empty()) {
    write_file(dir.path + "/chain.pem", str(pem_doc, "chain_pem"));
    verify += " -untrusted " + shell_quote(dir.path + "/chain.pem");
  }
  auto verified = run_command(verify + " " + shell_quote(leaf));
  BOOST_TEST(verified.exit_code == 0, verified.out);

  auto text = run_command("openssl x509 -noout -text -in " + shell_quote(leaf));
  BOOST_REQUIRE_EQUAL(text.exit_code, 0);
  for (const char* expected :
       {"DNS:app.example.test", "IP Address:192.0.2.10", "X509v3 Key Usage: critical",
        "Digital Signature", "TLS Web Server Authentication", "X509v3 CRL Distribution Points",
        "/.well-known/pki/crl", "OCSP - URI:", "/.well-known/pki/ocsp"}) {
    BOOST_TEST(contains(text.out, expected), "x509 text lacks '" << expected << "':\n" << text.out);
  }

  // PKCS#12 opens with the password and holds the server-generated key.
  auto p12 =
      client.post("/api/v1/certificates/" + id + "/export/pkcs12", R"({"password":"it-s3cret"})");
  BOOST_REQUIRE_MESSAGE(p12.status == 200, p12.describe());
  BOOST_TEST(p12.header("Content-Type") == "application/x-pkcs12");
  write_file(dir.path + "/bundle.p12", p12.body);
  auto opened = run_command("openssl pkcs12 -nodes -passin pass:it-s3cret -in " +
                            shell_quote(dir.path + "/bundle.p12"));
  BOOST_TEST(opened.exit_code == 0, opened.out);
  BOOST_TEST(contains(opened.out, "PRIVATE KEY"), "no key in the PKCS#12 bundle");
  BOOST_TEST(contains(opened.out, "BEGIN CERTIFICATE"));
  auto wrong = run_command("openssl pkcs12 -nodes -passin pass:wrong -in " +
                           shell_quote(dir.path + "/bundle.p12"));
  BOOST_TEST(wrong.exit_code != 0, "a wrong password opened the bundle");

  // Renewal adds a second version with a new serial.
  auto renew = client.post("/api/v1/certificates/" + id + "/renew", "");
  BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
  wait_for_versions(client, id, 2, renew.position());
  wait_for_certificate(client, id, {"Active"});
  const auto serials = serials_of(client, id);
  BOOST_REQUIRE_EQUAL(serials.size(), 2u);
  BOOST_TEST(serials[0] != serials[1]);

  // Revoked with a reason; a revoked certificate cannot be renewed.
  auto revoke =
      client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoke.status == 200, revoke.describe());
  auto revoked = client.get("/api/v1/certificates/" + id, revoke.position());
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  BOOST_TEST(str(revoked.json(), "status") == "Revoked");
  BOOST_TEST(str(revoked.json(), "revocation_reason") == "keyCompromise");
  auto again = client.post("/api/v1/certificates/" + id + "/renew", "");
  BOOST_TEST(again.status == 409, again.describe());
}

BOOST_AUTO_TEST_CASE(no_private_key_reaches_the_log_and_the_chain_verifies) {
  temp_dir dir;
  const std::string data = dir.path + "/data";
  {
    server_process server(data);
    auto client_owner = std::make_unique<api>(server);
    api& client = *client_owner;
    const std::string id =
        issue_active(client, certificate_body("keyscan", "keyscan.example.test", {}));
    auto p12 =
        client.post("/api/v1/certificates/" + id + "/export/pkcs12", R"({"password":"pw-it"})");
    BOOST_REQUIRE_MESSAGE(p12.status == 200, p12.describe());
    auto renew = client.post("/api/v1/certificates/" + id + "/renew", "");
    BOOST_REQUIRE_MESSAGE(renew.status == 202, renew.describe());
    wait_for_versions(client, id, 2, renew.position());
    BOOST_TEST(!contains(server.logs(), "PRIVATE KEY"), "the server log holds a private key");
    // An idle keep-alive connection holds a graceful stop for the server's keep-alive timeout.
    client_owner.reset();
    BOOST_TEST(server.stop() == 0);
  }
  // Every SQLite file (main, WAL, shared memory), byte for byte, and the SQL dump.
  int files = 0;
  for (const auto& e : fs::directory_iterator(data)) {
    const auto name = e.path().filename().string();
    if (name.rfind("certctl.db", 0) != 0) continue;
    ++files;
    BOOST_TEST(!contains(read_file(e.path().string()), "PRIVATE KEY"),
               name << " holds a private key");
  }
  BOOST_TEST(files >= 1);
  auto dump = run_command("sqlite3 " + shell_quote(data + "/certctl.db") + " .dump");
  BOOST_REQUIRE_EQUAL(dump.exit_code, 0);
  BOOST_TEST(contains(dump.out, "certificate.issued"), "the dump does not look like our log");
  BOOST_TEST(!contains(dump.out, "PRIVATE KEY"));

  auto audit = run_command(shell_quote(built_binary("tools/audit/certctl-audit")) +
                           " verify --store " + shell_quote("sqlite://" + data + "/certctl.db"));
  BOOST_TEST(audit.exit_code == 0, audit.out);
  BOOST_TEST(contains(audit.out, "verified "), audit.out);
}

BOOST_AUTO_TEST_CASE(first_start_without_keys_prints_a_working_admin_key_once) {
  temp_dir dir;
  server_options opts;
  opts.named_keys.clear();
  server_process server(dir.path + "/data", opts);
  const std::string key = server.generated_admin_key();
  BOOST_REQUIRE(key.rfind("cc_", 0) == 0);
  {
    api admin(server, key);
    auto created = admin.post("/api/v1/teams", R"({"name":"platform"})");
    BOOST_TEST(created.status == 201, created.describe());
  }
  server.stop();
  server.start();
  const std::string logs = server.logs();
  BOOST_TEST(logs.find(key) == logs.rfind(key), "the key was printed again on restart");
  api after(server, key);
  BOOST_TEST(after.get("/api/v1/teams").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
