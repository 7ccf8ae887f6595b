// Optional TLS client certificates (server_config::request_client_certificates, for EST): the
// chain and the RFC 9266 tls-exporter value reach the request, unverified; a client without a
// certificate still connects; a server that does not ask sees none.
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "gateways/http/http_server.hpp"
#include "gateways/http/router.hpp"
#include "tests/gateways/http/server_fixture.hpp"

using namespace certctl::gateways::http;
using namespace certctl::gateways::http::testing;

namespace {

/// A server whose one public route answers "<certificates> <exporter bytes>".
struct echo_server {
  explicit echo_server(bool ask) : cert(dir.path), r(key_store{}) {
    r.add("GET", "/who", role::none, [](request_context& c) {
      response out;
      out.content_type = "text/plain";
      out.body = std::to_string(c.raw.peer_certificates.size()) + " " +
                 std::to_string(c.raw.tls_exporter.size());
      return out;
    });
    server_config cfg;
    cfg.cert_file = cert.cert_file;
    cfg.key_file = cert.key_file;
    cfg.request_client_certificates = ask;
    server = std::make_unique<http_server>(cfg, dispatch_to(r));
    auto started = server->start();
    BOOST_REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
    std::filesystem::create_directories(dir.path + "/client");
    client = std::make_unique<test_certificate>(dir.path + "/client");
  }

  std::string get(const std::string& options) {
    auto res = run_command("curl -sS --cacert " + cert.cert_file + " " + options +
                           " https://127.0.0.1:" + std::to_string(server->port()) + "/who 2>&1");
    BOOST_REQUIRE_MESSAGE(res.exit_code == 0, res.out);
    return res.out;
  }

  temp_dir dir;
  test_certificate cert;
  router r;
  std::unique_ptr<http_server> server;
  std::unique_ptr<test_certificate> client;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(client_certificates)

BOOST_AUTO_TEST_CASE(a_presented_certificate_and_the_tls_exporter_reach_the_request) {
  echo_server s(true);
  const std::string with = "--cert " + s.client->cert_file + " --key " + s.client->key_file;
  BOOST_TEST(s.get(with + " --tlsv1.3") == "1 32");
  // RFC 9266 defines tls-exporter for TLS 1.3 only.
  BOOST_TEST(s.get(with + " --tls-max 1.2") == "1 0");
  // Optional: a client without a certificate is served as before.
  BOOST_TEST(s.get("--tlsv1.3") == "0 32");
}

BOOST_AUTO_TEST_CASE(a_client_resumes_its_session_when_the_server_asks_for_certificates) {
  // OpenSSL refuses to resume a session under SSL_VERIFY_PEER without a session id context;
  // browsers and long-lived clients resume, so that would break them on every reconnect.
  echo_server s(true);
  for (const std::string version : {"-tls1_2", "-tls1_3"}) {
    const std::string base =
        "openssl s_client -connect 127.0.0.1:" + std::to_string(s.server->port()) + " -CAfile " +
        s.cert.cert_file + " -cert " + s.client->cert_file + " -key " + s.client->key_file + " " +
        version + " -verify_return_error";
    const std::string session = s.dir.path + "/session" + version;
    auto first = run_command(
        "printf 'GET /who HTTP/1.1\\r\\nHost: x\\r\\nConnection: "
        "close\\r\\n\\r\\n' | " +
        base + " -ign_eof -sess_out " + session + " 2>&1");
    BOOST_TEST(first.exit_code == 0, first.out);
    auto again = run_command(
        "printf 'GET /who HTTP/1.1\\r\\nHost: x\\r\\nConnection: "
        "close\\r\\n\\r\\n' | " +
        base + " -ign_eof -sess_in " + session + " 2>&1");
    BOOST_TEST(again.exit_code == 0, again.out);
    BOOST_TEST(again.out.find("Reused,") != std::string::npos, version << ": " << again.out);
    BOOST_TEST(again.out.find("HTTP/1.1 200") != std::string::npos, version << ": " << again.out);
  }
}

BOOST_AUTO_TEST_CASE(a_server_that_does_not_ask_sees_no_certificate) {
  echo_server s(false);
  BOOST_TEST(s.get("--cert " + s.client->cert_file + " --key " + s.client->key_file) == "0 0");
}

BOOST_AUTO_TEST_SUITE_END()
