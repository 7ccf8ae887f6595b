// The EJBCA issuer against a local HTTPS server written from EJBCA's REST API v1
// (tests/support/mock_ejbca): pkcs10enroll with mutual TLS and with an OAuth2 bearer token,
// approvals as an order (followed across a restart; expired when never approved), revoke by
// URL-encoded issuer DN and serial, the documented errors (400, 403, 404, 429 with
// Retry-After), a timeout and a client certificate from a CA EJBCA does not trust.
#define BOOST_TEST_MODULE connectors_ejbca
#include <boost/test/unit_test.hpp>

#include "connectors/issuers/ejbca/ejbca.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_ejbca.hpp"

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

// This binary's loopback ports: 41130-41139.
constexpr int mtls_port = 41130;
constexpr int oauth_port = 41131;

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
  return r;
}

connectors::builtin_context loopback() {
  connectors::builtin_context ctx;
  ctx.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return ctx;
}

struct fixture {
  fixture()
      : ca(t::make_mock_ca(tmp.path(), "ejbca")),
        client(t::make_client_identity(tmp.path(), "ejbca", "certctl-ra")),
        server(ca, client.ca_path, mtls_port) {}

  events::json_object config() const {
    events::json_object c;
    c.set("api_url", server.url())
        .set("client_cert_path", client.cert_path)
        .set("client_key_path", client.key_path)
        .set("ca_name", "ManagementCA")
        .set("cert_profile", "SERVER")
        .set("ee_profile", "TLS_SERVER")
        .set("server_ca_path", ca.root_path)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c) {
    auto i = connectors::ejbca::make_ejbca_issuer({"iss-ejbca", c}, loopback());
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  certctl::test::temp_dir tmp;
  t::mock_ca_material ca;
  t::mtls_client_identity client;
  t::mock_ejbca server;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(enrolls_a_pkcs10_request_and_revokes_by_issuer_dn_and_serial, fixture) {
  auto issuer = make(config());
  BOOST_TEST(issuer->type() == "EJBCA");
  auto report = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  BOOST_TEST(contains(report->message, "CN=EJBCA Test Issuing CA"));
  auto cert = issuer->issue(request_for("ra.example.test"));
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  BOOST_TEST(cert->order_id.empty());  // synchronous when no approval is needed
  BOOST_TEST(contains(cert->chain_pem, "BEGIN CERTIFICATE"));
  auto body = events::json_object::parse(server.state().last_body);
  BOOST_REQUIRE(body.has_value());
  BOOST_TEST(body->str("username") == "certctl-ra.example.test");
  BOOST_TEST(body->str("password").size() == 32u);
  BOOST_TEST(body->boolean("include_chain"));
  auto revoked = issuer->revoke({cert->serial_hex, "cessationOfOperation"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_REQUIRE_EQUAL(server.state().revoked.size(), 1u);
  BOOST_TEST(server.state().revoked[0] == cert->serial_hex);
  BOOST_TEST(server.state().revoke_reasons[0] == "CESSATION_OF_OPERATION");
  BOOST_TEST(server.state().revoke_dns[0] == server.state().subject_dn);
  // Again (a retry whose first answer was lost): EJBCA's 409 "already revoked" is success,
  // and nothing is revoked twice.
  auto twice = issuer->revoke({cert->serial_hex, "cessationOfOperation"});
  BOOST_TEST(twice.ok(), (twice.ok() ? "" : twice.error().message));
  BOOST_TEST(server.state().revoked.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_dn_is_one_percent_encoded_path_segment) {
  BOOST_TEST(connectors::ejbca::url_encode("CN=A B,O=C/D") == "CN%3DA%20B%2CO%3DC%2FD");
}

BOOST_FIXTURE_TEST_CASE(an_enrollment_waiting_for_approval_is_an_order_across_a_restart, fixture) {
  server.state().behaviour.approval_required = true;
  std::string order;
  {
    auto issuer = make(config());
    auto pending = issuer->issue(request_for("approval.example.test"));
    BOOST_REQUIRE_MESSAGE(pending.ok(), (pending.ok() ? "" : pending.error().message));
    BOOST_TEST(pending->cert_pem.empty());
    order = pending->order_id;
    BOOST_TEST(contains(order, "certctl-approval.example.test@"));
    auto s = issuer->get_order_status(order);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(s->state == order_state::pending);
    BOOST_TEST(contains(s->message, "waiting for approval"), s->message);
  }
  // Another certificate of the same end entity (another key, issued meanwhile) is not the
  // order's: before approval the order is still pending.
  server.state().behaviour.approval_required = false;
  auto other = make(config())->issue(request_for("approval.example.test"));
  BOOST_REQUIRE(other.ok());
  BOOST_REQUIRE(!other->cert_pem.empty());
  auto still = make(config())->get_order_status(order);
  BOOST_REQUIRE(still.ok());
  BOOST_TEST(still->state == order_state::pending);
  server.state().approve_all(ca);
  auto issuer = make(config());
  auto s = issuer->get_order_status(order);
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  BOOST_TEST(s->state == order_state::valid);
  auto info = crypto::parse_certificate(s->certificate.cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->common_name == "approval.example.test");
  BOOST_TEST(s->certificate.serial_hex != other->serial_hex);
  // Never approved (rejected), past poll_max_wait_seconds: expired.
  auto late = issuer->get_order_status("certctl-never@" +
                                       std::to_string(std::time(nullptr) - 90000) + "@00");
  BOOST_REQUIRE(late.ok());
  BOOST_TEST(late->state == order_state::expired);
  BOOST_TEST(!issuer->get_order_status("certctl-never@123").ok());  // no key id
}

BOOST_FIXTURE_TEST_CASE(ejbcas_documented_errors_are_mapped, fixture) {
  auto issuer = make(config());
  server.state().behaviour.reject = true;
  auto rejected = issuer->issue(request_for("bad.example.test"));
  BOOST_REQUIRE(!rejected.ok());
  BOOST_TEST(rejected.error().code == issuer_errc::policy_violation);
  BOOST_TEST(contains(rejected.error().message, "end entity profile"), rejected.error().message);
  server.state().behaviour.reject = false;
  server.state().behaviour.rate_limited = 1;
  auto limited = issuer->issue(request_for("busy.example.test"));
  BOOST_REQUIRE(!limited.ok());
  BOOST_TEST(limited.error().code == issuer_errc::unavailable);
  BOOST_TEST(contains(limited.error().message, "retry after 7"), limited.error().message);
  auto c = config();
  c.set("ca_name", "OtherCA");
  auto other = make(c);
  auto unknown_ca = other->issue(request_for("x.example.test"));
  BOOST_REQUIRE(!unknown_ca.ok());
  BOOST_TEST(contains(unknown_ca.error().message, "404"), unknown_ca.error().message);
  BOOST_TEST(!other->self_test().ok());
  auto missing = issuer->revoke({"0A0B", ""});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(contains(missing.error().message, "Certificate not found"), missing.error().message);
}

BOOST_FIXTURE_TEST_CASE(a_slow_ejbca_times_out_and_a_foreign_client_certificate_is_refused,
                        fixture) {
  auto c = config();
  c.set("timeout_seconds", 1);
  server.state().behaviour.delay = std::chrono::milliseconds(2500);
  auto slow = make(c)->issue(request_for("slow.example.test"));
  server.state().behaviour.delay = std::chrono::milliseconds(0);
  BOOST_REQUIRE(!slow.ok());
  BOOST_TEST(contains(slow.error().message, "timed out"), slow.error().message);
  auto rogue = t::make_client_identity(tmp.path(), "rogue", "certctl-ra");
  c = config();
  c.set("client_cert_path", rogue.cert_path).set("client_key_path", rogue.key_path);
  auto refused = make(c)->issue(request_for("rogue.example.test"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(contains(refused.error().message, "refused our TLS client certificate"),
             refused.error().message);
  BOOST_TEST(server.state().enroll_calls == 0);
}

BOOST_AUTO_TEST_CASE(oauth2_mode_sends_the_bearer_token_instead_of_a_client_certificate) {
  certctl::test::temp_dir tmp;
  auto ca = t::make_mock_ca(tmp.path(), "ejbca-oauth");
  t::mock_ejbca server(ca, "", oauth_port);
  server.state().bearer = "eyJ.oauth.token";
  events::json_object c;
  c.set("api_url", server.url())
      .set("auth_mode", "oauth2")
      .set("token", "eyJ.oauth.token")
      .set("ca_name", "ManagementCA")
      .set("cert_profile", "SERVER")
      .set("ee_profile", "TLS_SERVER")
      .set("server_ca_path", ca.root_path);
  auto issuer = connectors::ejbca::make_ejbca_issuer({"iss-ejbca", c}, loopback());
  BOOST_REQUIRE_MESSAGE(issuer.ok(), (issuer.ok() ? "" : issuer.error().message));
  auto cert = (*issuer)->issue(request_for("oauth.example.test"));
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  c.set("token", "eyJ.stale");
  auto stale = connectors::ejbca::make_ejbca_issuer({"iss-ejbca", c}, loopback());
  BOOST_REQUIRE(stale.ok());
  auto denied = (*stale)->issue(request_for("oauth.example.test"));
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST(denied.error().code == issuer_errc::invalid_request);
  BOOST_TEST(contains(denied.error().message, "403"), denied.error().message);
  c.set("auth_mode", "kerberos");
  BOOST_TEST(!connectors::ejbca::make_ejbca_issuer({"iss-ejbca", c}, loopback()).ok());
  c.set("auth_mode", "mtls");
  auto no_identity = connectors::ejbca::make_ejbca_issuer({"iss-ejbca", c}, loopback());
  BOOST_REQUIRE(!no_identity.ok());
  BOOST_TEST(contains(no_identity.error().message, "client_cert_path"));
}
