// Mutual TLS in infra/crypto/https_client against an HTTPS server on loopback that requires a
// client certificate from one CA: the identity is presented and accepted; no identity or one
// from another CA is refused and said so; the TLS context is built once, reused, and rebuilt
// when the certificate file is replaced; a key file readable by others is refused.
#define BOOST_TEST_MODULE infra_crypto_https_mtls
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "infra/crypto/https_client.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_mtls.hpp"

using namespace certctl;
namespace t = certctl::testing;

namespace certctl::net {
std::ostream& operator<<(std::ostream& o, outbound_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::net

namespace {

// This binary's loopback port (41100-41109 belong to it).
constexpr int port = 41100;

struct fixture {
  fixture()
      : serving(t::make_mock_ca(tmp.path(), "serving")),
        client(t::make_client_identity(tmp.path(), "trusted", "client-one")),
        server(serving, client.ca_path, port) {
    server.http().Get("/whoami", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(t::client_common_name(req), "text/plain");
    });
    server.start();
  }

  result<net::http_get_response, net::outbound_error> get(const crypto::https_options& o) {
    net::http_get_request req;
    req.host = "127.0.0.1";
    req.port = port;
    req.path = "/whoami";
    net::outbound_limits limits;
    limits.connect_timeout = std::chrono::seconds(5);
    limits.io_timeout = std::chrono::seconds(5);
    return crypto::https_get(guard, req, limits, o);
  }

  crypto::https_options with_identity(const t::mtls_client_identity& id) const {
    crypto::https_options o;
    o.ca_bundle_path = serving.root_path;
    o.client_cert_path = id.cert_path;
    o.client_key_path = id.key_path;
    return o;
  }

  certctl::test::temp_dir tmp;
  t::mock_ca_material serving;
  t::mtls_client_identity client;
  t::mtls_server server;
  const net::outbound_guard guard{{*net::parse_cidr("127.0.0.1/32")}};
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(the_client_certificate_is_presented_and_accepted, fixture) {
  auto r = get(with_identity(client));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().detail));
  BOOST_TEST(r->status == 200);
  BOOST_TEST(r->body == "client-one");
  BOOST_TEST(crypto::check_client_identity(client.cert_path, client.key_path).ok());
}

BOOST_FIXTURE_TEST_CASE(without_a_client_certificate_the_server_refuses_and_we_say_so, fixture) {
  crypto::https_options o;
  o.ca_bundle_path = serving.root_path;
  auto r = get(o);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == net::outbound_errc::connect_failed);
  BOOST_TEST((crypto::tls_failure_of(r.error()) == crypto::tls_failure::client_cert_refused),
             r.error().detail);
}

BOOST_FIXTURE_TEST_CASE(a_certificate_from_another_ca_is_refused, fixture) {
  auto rogue = t::make_client_identity(tmp.path(), "rogue", "client-one");
  auto r = get(with_identity(rogue));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST((crypto::tls_failure_of(r.error()) == crypto::tls_failure::client_cert_refused),
             r.error().detail);
}

BOOST_FIXTURE_TEST_CASE(the_context_is_reused_and_rebuilt_when_the_certificate_is_replaced,
                        fixture) {
  auto o = with_identity(client);
  o.cache = std::make_shared<crypto::tls_context_cache>();
  for (int i = 0; i < 3; ++i) {
    auto r = get(o);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().detail));
    BOOST_TEST(r->body == "client-one");
  }
  BOOST_TEST(o.cache->builds() == 1);
  t::rotate_client_identity(client, "client-two");
  auto r = get(o);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().detail));
  BOOST_TEST(r->body == "client-two");
  BOOST_TEST(o.cache->builds() == 2);
  // A rotation that leaves the files unusable fails the call; the old identity is not used.
  certctl::test::write_text(client.key_path, "not a key");
  auto broken = get(o);
  BOOST_REQUIRE(!broken.ok());
  BOOST_TEST((crypto::tls_failure_of(broken.error()) == crypto::tls_failure::client_identity),
             broken.error().detail);
}

BOOST_FIXTURE_TEST_CASE(a_key_readable_by_others_or_not_matching_is_refused_before_connecting,
                        fixture) {
  ::chmod(client.key_path.c_str(), 0644);
  auto r = get(with_identity(client));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == net::outbound_errc::invalid_request);
  BOOST_TEST((crypto::tls_failure_of(r.error()) == crypto::tls_failure::client_identity));
  BOOST_TEST(r.error().detail.find("group or others") != std::string::npos, r.error().detail);
  auto checked = crypto::check_client_identity(client.cert_path, client.key_path);
  BOOST_REQUIRE(!checked.ok());
  BOOST_TEST(checked.error().message.find("chmod 600") != std::string::npos);

  ::chmod(client.key_path.c_str(), 0600);
  auto other = t::make_client_identity(tmp.path(), "other", "x");
  auto mixed = with_identity(client);
  mixed.client_key_path = other.key_path;
  auto m = get(mixed);
  BOOST_REQUIRE(!m.ok());
  BOOST_TEST(m.error().detail.find("matches the certificate") != std::string::npos,
             m.error().detail);
}
