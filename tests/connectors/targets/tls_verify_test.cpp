// Post-deploy verification (connectors/targets/common/tls_verify over
// infra/crypto/tls_probe): the served leaf's fingerprint read from a TLS endpoint directly and
// after SMTP and IMAP STARTTLS, through the outbound guard. The endpoint is a small Python
// TLS server (tls_peer.py) that re-reads its certificate for every connection.
#define BOOST_TEST_MODULE connectors_targets_tls_verify
#include <boost/test/unit_test.hpp>
#include <thread>

#include "connectors/targets/common/tls_verify.hpp"
#include "tests/connectors/targets/target_fixture.hpp"

using namespace certctl;
using namespace certctl::connectors::targets;
using namespace certctl::testing::targets;

namespace {

struct tls_peer {
  scratch_dir dir;
  std::string cert = dir.path + "/cert.pem", key = dir.path + "/key.pem";
  std::unique_ptr<daemon_process> server;
  int port = 0;

  tls_peer(const std::string& mode, const test_certificate& c) {
    serve(c);
    server = std::make_unique<daemon_process>(
        std::vector<std::string>{
            "python3", std::string(CERTCTL_SOURCE_DIR) + "/tests/connectors/targets/tls_peer.py",
            mode, cert, key, dir.path + "/port"},
        dir.path + "/peer.log");
    for (int i = 0; i < 200 && slurp(dir.path + "/port").empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    const std::string p = slurp(dir.path + "/port");
    BOOST_REQUIRE_MESSAGE(!p.empty(),
                          "tls_peer.py did not start: " + slurp(dir.path + "/peer.log"));
    port = std::stoi(p);
  }
  void serve(const test_certificate& c) {
    write_text(cert, c.cert_pem + c.chain_pem);
    write_text(key, c.key_pem);
  }
  verify_endpoint at(crypto::starttls_protocol starttls = crypto::starttls_protocol::none) const {
    verify_endpoint e;
    e.host = "127.0.0.1";
    e.port = port;
    e.starttls = starttls;
    e.timeout = std::chrono::seconds(10);
    return e;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_served_leaf_is_read_over_tls_and_after_smtp_and_imap_starttls) {
  const auto a = make_certificate("a.test");
  for (const auto& [mode, starttls] :
       {std::pair<std::string, crypto::starttls_protocol>{"tls", crypto::starttls_protocol::none},
        {"smtp", crypto::starttls_protocol::smtp},
        {"imap", crypto::starttls_protocol::imap}}) {
    BOOST_TEST_CONTEXT("mode " << mode) {
      tls_peer peer(mode, a);
      auto got = probe_endpoint(loopback_guard(), peer.at(starttls));
      BOOST_REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error()));
      BOOST_TEST(got->fingerprint_sha256_hex == a.fingerprint);
      BOOST_TEST(got->serial_hex == a.serial_hex);
      // Speaking the wrong protocol fails instead of reading something else.
      if (starttls != crypto::starttls_protocol::none)
        BOOST_TEST(
            !probe_endpoint(loopback_guard(), peer.at(crypto::starttls_protocol::none)).ok());
    }
  }
}

BOOST_AUTO_TEST_CASE(waiting_for_a_certificate_ends_when_it_is_served_or_names_what_is_served) {
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  tls_peer peer("tls", a);
  auto at = peer.at();
  at.timeout = std::chrono::milliseconds(600);
  auto not_yet = wait_until_served(loopback_guard(), at, b.fingerprint);
  BOOST_REQUIRE(!not_yet.ok());
  BOOST_TEST(not_yet.error().find(a.fingerprint) != std::string::npos, not_yet.error());
  BOOST_TEST(not_yet.error().find(b.fingerprint) != std::string::npos, not_yet.error());
  peer.serve(b);
  at.timeout = std::chrono::seconds(10);
  auto served = wait_until_served(loopback_guard(), at, b.fingerprint);
  BOOST_REQUIRE_MESSAGE(served.ok(), (served.ok() ? "" : served.error()));
  BOOST_TEST(served->serial_hex == b.serial_hex);
}

BOOST_AUTO_TEST_CASE(an_endpoint_outside_the_allow_list_is_refused_by_the_guard) {
  const auto a = make_certificate("a.test");
  tls_peer peer("tls", a);
  const net::outbound_guard public_only;
  auto got = wait_until_served(public_only, peer.at(), a.fingerprint);
  BOOST_REQUIRE(!got.ok());
  BOOST_TEST(got.error().find("refused_address") != std::string::npos, got.error());
}

BOOST_AUTO_TEST_CASE(endpoints_are_host_and_port) {
  BOOST_TEST(parse_endpoint("mail.example.com:25")->port == 25);
  auto v6 = parse_endpoint("[::1]:993");
  BOOST_REQUIRE(v6.ok());
  BOOST_TEST(v6->host == "::1");
  for (const char* bad : {"mail.example.com", ":443", "host:0", "host:65536", "host:x", "[::1]"})
    BOOST_TEST(!parse_endpoint(bad).ok(), bad);
}
