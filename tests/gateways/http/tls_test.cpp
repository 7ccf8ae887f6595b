// TLS policy of the server, checked with the openssl CLI as an independent client.
#include <boost/test/unit_test.hpp>

#include "tests/gateways/http/server_fixture.hpp"

using namespace certctl::gateways::http;
using namespace certctl::gateways::http::testing;

namespace {

certctl::testing::process_result s_client(const test_server& s, const std::string& options) {
  return run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(s.port()) +
                     " -CAfile " + s.cert_file() + " -verify_return_error " + options +
                     " </dev/null");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rest_tls)

BOOST_AUTO_TEST_CASE(tls_1_2_and_1_3_are_accepted_with_a_verified_certificate) {
  test_server s(true);
  const auto v12 = s_client(s, "-tls1_2");
  BOOST_TEST(v12.exit_code == 0, v12.out);
  BOOST_TEST(v12.out.find("TLSv1.2") != std::string::npos, v12.out);
  BOOST_TEST(v12.out.find("Verify return code: 0 (ok)") != std::string::npos);
  const auto v13 = s_client(s, "-tls1_3");
  BOOST_TEST(v13.exit_code == 0, v13.out);
  BOOST_TEST(v13.out.find("TLSv1.3") != std::string::npos, v13.out);
}

BOOST_AUTO_TEST_CASE(tls_1_1_is_refused) {
  test_server s(true);
  // SECLEVEL=0 lets the client offer TLS 1.1 at all; the refusal must come from the server.
  const auto v11 = s_client(s, "-tls1_1 -cipher DEFAULT@SECLEVEL=0");
  BOOST_TEST(v11.exit_code != 0, v11.out);
  BOOST_TEST(v11.out.find("Cipher is (NONE)") != std::string::npos, v11.out);
  // The server's own "protocol version" alert (70): refused by the server, not by the client.
  BOOST_TEST(v11.out.find("alert protocol version") != std::string::npos, v11.out);
  // The server keeps serving after the refused handshake.
  auto res = s.client()->Get("/health");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200);
}

BOOST_AUTO_TEST_CASE(a_plain_http_client_on_the_tls_port_gets_no_answer) {
  test_server s(true);
  httplib::Client plain("http://127.0.0.1:" + std::to_string(s.port()));
  plain.set_read_timeout(5);
  auto res = plain.Get("/health");
  BOOST_TEST(!res);
}

BOOST_AUTO_TEST_CASE(start_fails_clearly_without_usable_tls_material) {
  temp_dir dir;
  router r(key_store{});
  server_config c;
  c.cert_file = dir.path + "/missing.pem";
  c.key_file = dir.path + "/missing-key.pem";
  http_server missing(c, dispatch_to(r));
  auto started = missing.start();
  BOOST_REQUIRE(!started.ok());
  BOOST_TEST(started.error().message.find("load TLS certificate") != std::string::npos);

  test_certificate a(dir.path);
  temp_dir other;
  test_certificate b(other.path);
  c.cert_file = a.cert_file;
  c.key_file = b.key_file;
  http_server mismatched(c, dispatch_to(r));
  auto started2 = mismatched.start();
  BOOST_REQUIRE(!started2.ok());
  const auto& m2 = started2.error().message;
  BOOST_TEST((m2.find("load TLS certificate") != std::string::npos ||
              m2.find("does not match") != std::string::npos),
             m2);

  server_config none;
  http_server no_files(none, dispatch_to(r));
  BOOST_TEST(!no_files.start().ok());
}

BOOST_AUTO_TEST_SUITE_END()
