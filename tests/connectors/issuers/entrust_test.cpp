// The Entrust issuer against a local HTTPS server written from Entrust CA Gateway's REST API
// (tests/support/mock_entrust) that requires a client certificate: issuance at once and as an
// approval-pending order (followed across a restart of the connector), rejection, revoke,
// the documented errors (400, 401, 403, 404, 429 with Retry-After), a timeout, a wrong client
// certificate refused with a clear error, a rotated client certificate used without restart.
#define BOOST_TEST_MODULE connectors_entrust
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "connectors/issuers/entrust/entrust.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_entrust.hpp"

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

// This binary's loopback ports: 41110-41119.
constexpr int port = 41110;

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

struct fixture {
  fixture()
      : ca(t::make_mock_ca(tmp.path(), "entrust")),
        client(t::make_client_identity(tmp.path(), "entrust", "certctl-entrust-client")),
        server(ca, client.ca_path, client.common_name, port) {
    server.state().profile_id = "PRF-TLS";
  }

  events::json_object config() const {
    events::json_object c;
    c.set("api_url", server.url())
        .set("client_cert_path", client.cert_path)
        .set("client_key_path", client.key_path)
        .set("ca_id", "CA-TEST-1")
        .set("profile_id", "PRF-TLS")
        .set("server_ca_path", ca.root_path)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c) {
    connectors::builtin_context ctx;
    ctx.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
    auto i = connectors::entrust::make_entrust_issuer({"iss-entrust", c}, ctx);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  certctl::test::temp_dir tmp;
  t::mock_ca_material ca;
  t::mtls_client_identity client;
  t::mock_entrust server;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(an_auto_approved_enrollment_is_issued_at_once_and_revoked, fixture) {
  auto issuer = make(config());
  BOOST_TEST(issuer->type() == "Entrust");
  auto report = issuer->self_test();
  BOOST_TEST(report.ok(), (report.ok() ? "" : report.error().message));
  auto req = request_for("shop.example.test");
  auto cert = issuer->issue(req);
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  BOOST_TEST(!cert->cert_pem.empty());
  BOOST_TEST(contains(cert->chain_pem, "BEGIN CERTIFICATE"));
  BOOST_TEST(contains(cert->order_id, "TRK-"));
  BOOST_TEST(server.state().client_cns.back() == "certctl-entrust-client");
  auto body = events::json_object::parse(server.state().last_body);
  BOOST_REQUIRE(body.has_value());
  BOOST_TEST(body->str("profileId") == "PRF-TLS");
  BOOST_TEST(body->str_array("subjectAltNames") == std::vector<std::string>{"shop.example.test"});
  auto revoked = issuer->revoke({cert->serial_hex, "keyCompromise"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_REQUIRE_EQUAL(server.state().revoked.size(), 1u);
  BOOST_TEST(server.state().revoked[0] == cert->serial_hex);
  BOOST_TEST(server.state().revoke_reasons[0] == "keyCompromise");
}

BOOST_FIXTURE_TEST_CASE(an_approval_pending_enrollment_is_an_order_that_survives_a_restart,
                        fixture) {
  server.state().behaviour.approval_required = true;
  std::string order;
  {
    auto issuer = make(config());
    BOOST_TEST(issuer->capabilities().async_orders);
    auto pending = issuer->issue(request_for("approve.example.test"));
    BOOST_REQUIRE_MESSAGE(pending.ok(), (pending.ok() ? "" : pending.error().message));
    BOOST_TEST(pending->cert_pem.empty());
    order = pending->order_id;
    auto status = issuer->get_order_status(order);
    BOOST_REQUIRE(status.ok());
    BOOST_TEST(status->state == order_state::pending);
    BOOST_TEST(contains(status->message, "pending approval"), status->message);
  }
  // The server restarted (a new connector instance); the approver approves meanwhile.
  server.state().approve_all();
  auto issuer = make(config());
  auto status = issuer->get_order_status(order);
  BOOST_REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
  BOOST_TEST(status->state == order_state::valid);
  auto info = crypto::parse_certificate(status->certificate.cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->common_name == "approve.example.test");
  BOOST_TEST(status->certificate.serial_hex == info->serial_hex);
}

BOOST_FIXTURE_TEST_CASE(a_queued_order_is_pending_for_n_polls_then_issued, fixture) {
  server.state().behaviour.pending_polls = 2;
  auto issuer = make(config());
  auto pending = issuer->issue(request_for("queued.example.test"));
  BOOST_REQUIRE(pending.ok());
  BOOST_REQUIRE(!pending->order_id.empty());
  for (int i = 0; i < 2; ++i) {
    auto s = issuer->get_order_status(pending->order_id);
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(s->state == order_state::pending);
  }
  auto done = issuer->get_order_status(pending->order_id);
  BOOST_REQUIRE(done.ok());
  BOOST_TEST(done->state == order_state::valid);
}

BOOST_FIXTURE_TEST_CASE(a_rejected_unknown_or_overdue_order_is_final, fixture) {
  server.state().behaviour.approval_required = true;
  auto issuer = make(config());
  auto pending = issuer->issue(request_for("reject.example.test"));
  BOOST_REQUIRE(pending.ok());
  server.state().reject_all();
  auto rejected = issuer->get_order_status(pending->order_id);
  BOOST_REQUIRE(rejected.ok());
  BOOST_TEST(rejected->state == order_state::invalid);
  BOOST_TEST(contains(rejected->message, "REJECTED"), rejected->message);
  auto unknown = issuer->get_order_status("TRK-9999@" + std::to_string(std::time(nullptr)));
  BOOST_REQUIRE(unknown.ok());
  BOOST_TEST(unknown->state == order_state::invalid);
  // Placed longer ago than poll_max_wait_seconds (600 by default) and still pending.
  auto again = issuer->issue(request_for("late.example.test"));
  BOOST_REQUIRE(again.ok());
  const std::string tracking = again->order_id.substr(0, again->order_id.find('@'));
  auto late = issuer->get_order_status(tracking + "@" + std::to_string(std::time(nullptr) - 700));
  BOOST_REQUIRE(late.ok());
  BOOST_TEST(late->state == order_state::expired);
  BOOST_TEST(!issuer->get_order_status("no-time").ok());
}

BOOST_FIXTURE_TEST_CASE(entrusts_documented_errors_are_mapped, fixture) {
  auto issuer = make(config());
  server.state().behaviour.reject = true;
  auto rejected = issuer->issue(request_for("bad.example.test"));
  BOOST_REQUIRE(!rejected.ok());
  BOOST_TEST(rejected.error().code == issuer_errc::policy_violation);
  BOOST_TEST(contains(rejected.error().message, "domain not verified"), rejected.error().message);
  server.state().behaviour.reject = false;

  server.state().behaviour.rate_limited = 1;
  auto limited = issuer->issue(request_for("busy.example.test"));
  BOOST_REQUIRE(!limited.ok());
  BOOST_TEST(limited.error().code == issuer_errc::unavailable);
  BOOST_TEST(contains(limited.error().message, "retry after 7"), limited.error().message);

  server.state().behaviour.unauthorised = 1;
  auto denied = issuer->issue(request_for("auth.example.test"));
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST(denied.error().code == issuer_errc::invalid_request);
  BOOST_TEST(contains(denied.error().message, "401"), denied.error().message);

  auto missing = issuer->revoke({"0A0B0C", "superseded"});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(contains(missing.error().message, "404"), missing.error().message);

  auto c = config();
  c.set("ca_id", "CA-OTHER");
  auto other = make(c);
  BOOST_TEST(!other->self_test().ok());
  auto wrong_ca = other->issue(request_for("x.example.test"));
  BOOST_REQUIRE(!wrong_ca.ok());
  BOOST_TEST(contains(wrong_ca.error().message, "certificate authority not found"));
}

BOOST_FIXTURE_TEST_CASE(a_gateway_slower_than_the_timeout_fails_as_unavailable, fixture) {
  auto c = config();
  c.set("timeout_seconds", 1);
  auto issuer = make(c);
  server.state().behaviour.delay = std::chrono::milliseconds(2500);
  auto cert = issuer->issue(request_for("slow.example.test"));
  server.state().behaviour.delay = std::chrono::milliseconds(0);
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(cert.error().code == issuer_errc::unavailable);
  BOOST_TEST(contains(cert.error().message, "timed out"), cert.error().message);
}

BOOST_FIXTURE_TEST_CASE(a_client_certificate_the_gateway_does_not_trust_is_a_clear_error, fixture) {
  auto rogue = t::make_client_identity(tmp.path(), "rogue", "certctl-entrust-client");
  auto c = config();
  c.set("client_cert_path", rogue.cert_path).set("client_key_path", rogue.key_path);
  auto cert = make(c)->issue(request_for("rogue.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(cert.error().code == issuer_errc::invalid_request);
  BOOST_TEST(contains(cert.error().message, "refused our TLS client certificate"),
             cert.error().message);
  BOOST_TEST(server.state().enroll_calls == 0);

  // Trusted CA, but a certificate the gateway has not authorised: its 403.
  auto stranger = make(config());
  server.state().authorised_cn = "someone-else";
  auto forbidden = stranger->issue(request_for("x.example.test"));
  BOOST_REQUIRE(!forbidden.ok());
  BOOST_TEST(contains(forbidden.error().message, "403"), forbidden.error().message);
}

BOOST_FIXTURE_TEST_CASE(a_rotated_client_certificate_is_used_without_a_restart, fixture) {
  auto issuer = make(config());
  BOOST_REQUIRE(issuer->issue(request_for("one.example.test")).ok());
  t::rotate_client_identity(client, "certctl-entrust-client-2026");
  server.state().authorised_cn = client.common_name;
  auto cert = issuer->issue(request_for("two.example.test"));
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  BOOST_TEST(server.state().client_cns.back() == "certctl-entrust-client-2026");
}

BOOST_FIXTURE_TEST_CASE(a_bad_client_identity_fails_the_configuration, fixture) {
  connectors::builtin_context ctx;
  ::chmod(client.key_path.c_str(), 0640);
  auto loose = connectors::entrust::make_entrust_issuer({"iss-entrust", config()}, ctx);
  BOOST_REQUIRE(!loose.ok());
  BOOST_TEST(contains(loose.error().message, "group or others"), loose.error().message);
  ::chmod(client.key_path.c_str(), 0600);
  auto c = config();
  c.set("client_key_path", tmp.file("missing.key"));
  BOOST_TEST(!connectors::entrust::make_entrust_issuer({"iss-entrust", c}, ctx).ok());
  c = config();
  c.set("ca_id", "../admin");
  BOOST_TEST(!connectors::entrust::make_entrust_issuer({"iss-entrust", c}, ctx).ok());
}
