// The GlobalSign Atlas HVCA issuer against a local HTTPS server written from the Atlas
// Certificate Management API v2 (tests/support/mock_globalsign) that requires a client
// certificate and a login token: login cached and renewed once on 401, issuance at once and
// after N polls (across a restart of the connector), revoke by DELETE, the documented errors
// (401, 404, 422, 429 with Retry-After), a timeout, a wrong client certificate, and the
// secrets of the client-certificate CAs sealed and redacted by the config service.
#define BOOST_TEST_MODULE connectors_globalsign
#include <boost/test/unit_test.hpp>

#include "connectors/config_service.hpp"
#include "connectors/issuers/ejbca/ejbca.hpp"
#include "connectors/issuers/entrust/entrust.hpp"
#include "connectors/issuers/globalsign/globalsign.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_globalsign.hpp"

using namespace certctl;
namespace t = certctl::testing;
using connectors::issuer_errc;
using connectors::order_state;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, issuer_errc c) {
  return o << to_string(c);
}
std::ostream& operator<<(std::ostream& o, order_state s) {
  return o << to_string(s);
}
}  // namespace certctl::connectors

namespace {

// This binary's loopback ports: 41120-41129.
constexpr int port = 41120;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

connectors::issuance_request request_for(const std::string& cn) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn, {{cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  connectors::issuance_request r;
  r.csr_pem = made->csr_pem;
  r.common_name = cn;
  r.sans.dns = {cn};
  r.ttl_us = 30LL * 86400 * 1000000;
  return r;
}

connectors::builtin_context loopback() {
  connectors::builtin_context ctx;
  ctx.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return ctx;
}

struct fixture {
  fixture()
      : ca(t::make_mock_ca(tmp.path(), "atlas")),
        client(t::make_client_identity(tmp.path(), "atlas", "certctl-atlas-client")),
        server(ca, client.ca_path, port) {}

  events::json_object config() const {
    events::json_object c;
    c.set("api_url", server.url())
        .set("api_key", "atlas-key")
        .set("api_secret", "atlas-secret")
        .set("client_cert_path", client.cert_path)
        .set("client_key_path", client.key_path)
        .set("server_ca_path", ca.root_path)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c) {
    auto i = connectors::globalsign::make_globalsign_issuer({"iss-atlas", c}, loopback());
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  certctl::test::temp_dir tmp;
  t::mock_ca_material ca;
  t::mtls_client_identity client;
  t::mock_globalsign server;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(logs_in_once_issues_and_revokes_with_mtls_and_the_token, fixture) {
  auto issuer = make(config());
  BOOST_TEST(issuer->type() == "GlobalSign");
  auto report = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  auto cert = issuer->issue(request_for("atlas.example.test"));
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  BOOST_TEST(!cert->cert_pem.empty());
  BOOST_TEST(contains(cert->chain_pem, "BEGIN CERTIFICATE"));
  auto body = events::json_object::parse(server.state().last_body);
  BOOST_REQUIRE(body.has_value());
  BOOST_TEST(contains(body->raw("subject_dn"), "atlas.example.test"));
  BOOST_TEST(contains(body->raw("san"), "dns_names"));
  BOOST_TEST(server.state().client_cns.back() == "certctl-atlas-client");
  auto revoked = issuer->revoke({cert->serial_hex, "superseded"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_REQUIRE_EQUAL(server.state().revoked.size(), 1u);
  BOOST_TEST(server.state().revoked[0] == cert->serial_hex);
  BOOST_TEST(server.state().logins == 1);  // the token was reused for every call
  BOOST_TEST(connectors::globalsign::logins_of(*issuer) == 1);
}

BOOST_FIXTURE_TEST_CASE(an_expired_token_is_renewed_once_on_401, fixture) {
  auto issuer = make(config());
  BOOST_REQUIRE(issuer->issue(request_for("a.example.test")).ok());
  server.state().tokens.clear();  // Atlas expired the token
  auto again = issuer->issue(request_for("b.example.test"));
  BOOST_REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
  BOOST_TEST(server.state().logins == 2);
  // Wrong credentials: the login's 401 is final, not a loop.
  auto c = config();
  c.set("api_secret", "wrong");
  auto refused = make(c)->issue(request_for("c.example.test"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == issuer_errc::invalid_request);
  BOOST_TEST(contains(refused.error().message, "Invalid API key or secret"),
             refused.error().message);
}

BOOST_FIXTURE_TEST_CASE(a_certificate_not_yet_available_is_an_order_that_survives_a_restart,
                        fixture) {
  server.state().behaviour.pending_polls = 2;  // the issue() call's own poll sees the first 404
  std::string order;
  {
    auto issuer = make(config());
    auto pending = issuer->issue(request_for("later.example.test"));
    BOOST_REQUIRE_MESSAGE(pending.ok(), (pending.ok() ? "" : pending.error().message));
    BOOST_TEST(pending->cert_pem.empty());
    order = pending->order_id;
    auto s = issuer->get_order_status(order);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(s->state == order_state::pending);
  }
  auto issuer = make(config());
  auto s = issuer->get_order_status(order);
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  BOOST_TEST(s->state == order_state::valid);
  auto info = crypto::parse_certificate(s->certificate.cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->common_name == "later.example.test");
  // Not available long past poll_max_wait_seconds: expired; a revoked one: invalid.
  auto gone = issuer->get_order_status("0BADBEEF@" + std::to_string(std::time(nullptr) - 700));
  BOOST_REQUIRE(gone.ok());
  BOOST_TEST(gone->state == order_state::expired);
  BOOST_REQUIRE(issuer->revoke({s->certificate.serial_hex, ""}).ok());
  auto revoked = issuer->get_order_status(order);
  BOOST_REQUIRE(revoked.ok());
  BOOST_TEST(revoked->state == order_state::invalid);
}

BOOST_FIXTURE_TEST_CASE(atlas_documented_errors_are_mapped, fixture) {
  auto issuer = make(config());
  server.state().behaviour.reject = true;
  auto rejected = issuer->issue(request_for("bad.example.test"));
  BOOST_REQUIRE(!rejected.ok());
  BOOST_TEST(rejected.error().code == issuer_errc::policy_violation);
  BOOST_TEST(contains(rejected.error().message, "validation policy"), rejected.error().message);
  server.state().behaviour.reject = false;
  server.state().behaviour.rate_limited = 1;
  auto limited = issuer->issue(request_for("busy.example.test"));
  BOOST_REQUIRE(!limited.ok());
  BOOST_TEST(limited.error().code == issuer_errc::unavailable);
  BOOST_TEST(contains(limited.error().message, "retry after 7"), limited.error().message);
  auto missing = issuer->revoke({"0A0B", ""});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(contains(missing.error().message, "404"), missing.error().message);
}

BOOST_FIXTURE_TEST_CASE(a_slow_api_times_out_and_a_foreign_client_certificate_is_refused, fixture) {
  auto c = config();
  c.set("timeout_seconds", 1);
  server.state().behaviour.delay = std::chrono::milliseconds(2500);
  auto slow = make(c)->issue(request_for("slow.example.test"));
  server.state().behaviour.delay = std::chrono::milliseconds(0);
  BOOST_REQUIRE(!slow.ok());
  BOOST_TEST(contains(slow.error().message, "timed out"), slow.error().message);

  auto rogue = t::make_client_identity(tmp.path(), "rogue", "certctl-atlas-client");
  c = config();
  c.set("client_cert_path", rogue.cert_path).set("client_key_path", rogue.key_path);
  auto refused = make(c)->issue(request_for("rogue.example.test"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(contains(refused.error().message, "refused our TLS client certificate"),
             refused.error().message);
  BOOST_TEST(server.state().logins == 0);
}

BOOST_AUTO_TEST_CASE(client_certificate_ca_secrets_are_sealed_at_rest_and_redacted) {
  certctl::test::temp_dir tmp;
  connectors::connector_registry only;
  BOOST_REQUIRE(connectors::register_globalsign_connector(only, loopback()).ok());
  BOOST_REQUIRE(connectors::register_ejbca_connector(only, loopback()).ok());
  BOOST_REQUIRE(connectors::register_entrust_connector(only, loopback()).ok());
  auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
  BOOST_REQUIRE(master.ok());
  connectors::config_service configs(only, *master);
  events::json_object g;
  g.set("api_url", "https://emea.api.hvca.example.test:8443/v2")
      .set("api_key", "atlas-key-s3cret")
      .set("api_secret", "atlas-secret-s3cret")
      .set("client_cert_path", "/etc/certctl/atlas.crt")
      .set("client_key_path", "/etc/certctl/atlas.key");
  events::json_object e;
  e.set("api_url", "https://ejbca.example.test/ejbca/ejbca-rest-api")
      .set("auth_mode", "oauth2")
      .set("token", "ejbca-bearer-s3cret")
      .set("ca_name", "ManagementCA");
  const std::pair<const char*, events::json_object> cases[] = {{"GlobalSign", g}, {"EJBCA", e}};
  const std::vector<std::string> secrets = {"atlas-key-s3cret", "atlas-secret-s3cret",
                                            "ejbca-bearer-s3cret"};
  for (const auto& [type, config] : cases) {
    auto stored =
        configs.prepare(connectors::connector_kind::issuer, type, "iss-x", config, nullptr);
    BOOST_REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
    const std::string at_rest = stored->dump();
    const std::string shown =
        configs.redact(connectors::connector_kind::issuer, type, *stored).dump();
    for (const auto& s : secrets) {
      BOOST_TEST(!contains(at_rest, s), type << " stores " << s << " in clear");
      BOOST_TEST(!contains(shown, s), type << " shows " << s);
    }
    BOOST_TEST(contains(shown, "********"));
    // The key path is configuration, not a secret: shown as it is.
    if (std::string(type) == "GlobalSign") BOOST_TEST(contains(shown, "/etc/certctl/atlas.key"));
  }
}
