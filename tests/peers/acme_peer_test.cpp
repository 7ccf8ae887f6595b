// Real ACME clients against the ACME server (LABEL peer): certbot and lego each register,
// issue a multi-SAN certificate, renew it and revoke it, in trust_authenticated mode and in
// challenge mode with http-01 on a loopback port (lego also with tls-alpn-01, RFC 8737, its
// acme-tls/1 listener on a loopback port). Issued chains must pass `openssl verify`.
// A missing client program skips its test (exit 77) with a message, nothing else does.
#define BOOST_TEST_MODULE peer_acme
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <iostream>

#include "tests/integration/server_process.hpp"

using namespace certctl;
using namespace certctl::integration;
using testing::shell_quote;

namespace {

/// A free loopback port for the client's http-01 listener.
int free_port() {
  auto r = run_command(
      "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
      "print(s.getsockname()[1])'");
  BOOST_REQUIRE(r.exit_code == 0);
  return std::stoi(r.out);
}

struct peer_server {
  temp_dir dir;
  int http01_port = free_port();
  int tlsalpn01_port = free_port();
  std::unique_ptr<server_process> server;
  explicit peer_server(const std::string& mode) {
    server_options o;
    o.keygen_mode = "agent";
    o.extra_env["CERTCTL_ACME_SERVER_ENABLED"] = "true";
    o.extra_env["CERTCTL_ACME_SERVER_AUTH_MODE"] = mode;
    o.extra_env["CERTCTL_ACME_SERVER_HTTP01_HOST"] = "127.0.0.1";
    o.extra_env["CERTCTL_ACME_SERVER_HTTP01_PORT"] = std::to_string(http01_port);
    o.extra_env["CERTCTL_ACME_SERVER_TLSALPN01_HOST"] = "127.0.0.1";
    o.extra_env["CERTCTL_ACME_SERVER_TLSALPN01_PORT"] = std::to_string(tlsalpn01_port);
    // The peers answer challenges on loopback, which the outbound guard refuses by default.
    o.extra_env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32";
    server = std::make_unique<server_process>(dir.path + "/data", o);
  }
  std::string directory() const {
    return "https://127.0.0.1:" + std::to_string(server->port()) + "/acme/directory";
  }
};

void verify_chain(const std::string& bundle, const std::string& chain) {
  auto v = run_command("openssl verify -CAfile " + shell_quote(bundle) + " -untrusted " +
                       shell_quote(chain) + " " + shell_quote(chain));
  BOOST_TEST(v.exit_code == 0, v.out);
  auto sans = run_command("openssl x509 -noout -ext subjectAltName -in " + shell_quote(chain));
  BOOST_TEST(sans.out.find("DNS:a.example.test") != std::string::npos, sans.out);
  BOOST_TEST(sans.out.find("DNS:b.example.test") != std::string::npos, sans.out);
}

std::string serial_of(const std::string& cert) {
  return run_command("openssl x509 -noout -serial -in " + shell_quote(cert)).out;
}

void run_certbot(const std::string& mode) {
  peer_server s(mode);
  const std::string d = s.dir.path;
  const std::string common = " --config-dir " + shell_quote(d + "/c") + " --work-dir " +
                             shell_quote(d + "/w") + " --logs-dir " + shell_quote(d + "/l") +
                             " --non-interactive";
  const std::string env = "REQUESTS_CA_BUNDLE=" + shell_quote(s.server->ca_bundle()) + " ";
  auto issue = run_command(env + "certbot certonly --server " + shell_quote(s.directory()) +
                           " --standalone --http-01-address 127.0.0.1 --http-01-port " +
                           std::to_string(s.http01_port) +
                           " --agree-tos --register-unsafely-without-email"
                           " -d a.example.test -d b.example.test" +
                           common + " 2>&1");
  BOOST_REQUIRE_MESSAGE(issue.exit_code == 0, issue.out + s.server->logs());
  const std::string live = d + "/c/live/a.example.test";
  verify_chain(s.server->ca_bundle(), live + "/fullchain.pem");
  const std::string first = serial_of(live + "/cert.pem");

  auto renew = run_command(env + "certbot renew --force-renewal --no-random-sleep-on-renew" +
                           common + " 2>&1");
  BOOST_REQUIRE_MESSAGE(renew.exit_code == 0, renew.out);
  verify_chain(s.server->ca_bundle(), live + "/fullchain.pem");
  BOOST_TEST(serial_of(live + "/cert.pem") != first);

  auto revoke = run_command(env + "certbot revoke --server " + shell_quote(s.directory()) +
                            " --cert-path " + shell_quote(live + "/cert.pem") +
                            " --reason superseded --no-delete-after-revoke" + common + " 2>&1");
  BOOST_TEST(revoke.exit_code == 0, revoke.out);
}

/// `tls_alpn` solves with lego's acme-tls/1 listener instead of its http-01 one.
void run_lego(const std::string& mode, bool tls_alpn = false) {
  peer_server s(mode);
  const std::string solver = tls_alpn
                                 ? " --tls --tls.port 127.0.0.1:" + std::to_string(s.tlsalpn01_port)
                                 : " --http --http.port 127.0.0.1:" + std::to_string(s.http01_port);
  const std::string d = s.dir.path;
  // lego names the certificate after the first domain; revoke walks every --domains entry
  // as a certificate name, so it gets only the first.
  const std::string lego = "LEGO_CA_CERTIFICATES=" + shell_quote(s.server->ca_bundle()) +
                           " lego --server " + shell_quote(s.directory()) +
                           " --accept-tos --email x@example.test --domains a.example.test" +
                           solver + " --path " + shell_quote(d + "/lego");
  const std::string base = lego + " --domains b.example.test";
  auto issue = run_command(base + " run 2>&1");
  BOOST_REQUIRE_MESSAGE(issue.exit_code == 0, issue.out + s.server->logs());
  const std::string crt = d + "/lego/certificates/a.example.test.crt";
  verify_chain(s.server->ca_bundle(), crt);
  const std::string first = serial_of(crt);

  auto renew = run_command(base + " renew --days 3650 --no-random-sleep 2>&1");
  BOOST_REQUIRE_MESSAGE(renew.exit_code == 0, renew.out);
  verify_chain(s.server->ca_bundle(), crt);
  BOOST_TEST(serial_of(crt) != first);

  auto revoke = run_command(lego + " revoke 2>&1");
  BOOST_TEST(revoke.exit_code == 0, revoke.out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_peers)

BOOST_AUTO_TEST_CASE(certbot_trust_authenticated) {
  run_certbot("trust_authenticated");
}
BOOST_AUTO_TEST_CASE(certbot_http01_challenge) {
  run_certbot("challenge");
}
BOOST_AUTO_TEST_CASE(lego_trust_authenticated) {
  run_lego("trust_authenticated");
}
BOOST_AUTO_TEST_CASE(lego_http01_challenge) {
  run_lego("challenge");
}
BOOST_AUTO_TEST_CASE(lego_tls_alpn01_challenge) {
  run_lego("challenge", true);
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char* argv[]) {
  // The client a run needs follows from its --run_test filter (one ctest entry per client).
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const char* program : {"certbot", "lego"}) {
      if (arg.find("--run_test=") == 0 && arg.find(program) != std::string::npos &&
          run_command(std::string("command -v ") + program + " >/dev/null").exit_code != 0) {
        std::cout << "SKIP: " << program << " is not installed (apt-get install " << program
                  << ")\n";
        return 77;
      }
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
