// The Google CAS issuer against a local server written from the CAS REST API v1 and Google's
// OAuth2 token endpoint (tests/support/mock_googlecas): the JWT grant the mock verifies, the
// token cached and renewed, create/revoke/fetchCaCerts as the API shapes them, the documented
// errors (UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, RESOURCE_EXHAUSTED with Retry-After,
// FAILED_PRECONDITION), a timeout, the outbound guard, and the key sealed and redacted.
#define BOOST_TEST_MODULE connectors_googlecas
#include <boost/test/unit_test.hpp>

#include "connectors/common/cloud_auth.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/googlecas/google_cas.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_googlecas.hpp"

using namespace certctl;
using certctl::test::temp_dir;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, issuer_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::connectors
namespace t = certctl::testing;

namespace {

// This binary's loopback port (41200-41209 are the Google CAS tests').
constexpr int cas_port = 41200;

connectors::builtin_context loopback_context() {
  connectors::builtin_context c;
  c.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return c;
}

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
  r.ttl_us = 7LL * 86400 * 1000000;
  return r;
}

/// One RSA key for every case: generating RSA keys is slow and the key is not under test.
const std::string& service_account_key() {
  static const std::string pem = [] {
    auto key = crypto::generate_key(crypto::key_type::rsa_2048);
    if (!key) throw std::runtime_error("rsa key");
    return key->pem;
  }();
  return pem;
}

struct cas_fixture {
  cas_fixture() : ca(t::make_mock_ca(tmp.path(), "cas")), server(ca, cas_port) {
    key_pem = service_account_key();
    key_json = server.service_account_json(key_pem);
    std::ofstream(tmp.file("sa.json")) << key_json;
  }

  events::json_object config() const {
    events::json_object c;
    c.set("project", "proj-1")
        .set("location", "us-central1")
        .set("ca_pool", "pool-1")
        .set("credentials", tmp.file("sa.json"))
        .set("api_url", server.url())
        .set("ca_bundle_path", ca.root_path)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c,
                                           connectors::builtin_context ctx = loopback_context()) {
    auto i = connectors::googlecas::make_google_cas_issuer({"iss-cas", c}, ctx);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  temp_dir tmp;
  t::mock_ca_material ca;
  t::mock_googlecas server;
  std::string key_pem, key_json;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(googlecas, cas_fixture)

BOOST_AUTO_TEST_CASE(issues_synchronously_with_a_verified_jwt_grant_and_reuses_the_token) {
  auto issuer = make(config());
  auto req = request_for("app.example.test");
  auto cert = issuer->issue(req);
  BOOST_REQUIRE_MESSAGE(
      cert.ok(), (cert.ok() ? "" : cert.error().message + " / " + server.state().last_error));
  BOOST_TEST(cert->order_id.empty());  // synchronous: no order to follow
  auto info = crypto::parse_certificate(cert->cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->public_key_der == crypto::parse_csr(req.csr_pem)->public_key_der);
  BOOST_TEST(contains(cert->chain_pem, ca.root_pem.substr(30, 40)));
  BOOST_TEST(server.state().certificates.back().lifetime == "604800s");
  BOOST_TEST(
      contains(server.state().certificates.back().name,
               "projects/proj-1/locations/us-central1/caPools/pool-1/certificates/certctl-"));
  // A second issue reuses the cached access token: one JWT grant for both.
  BOOST_REQUIRE(issuer->issue(request_for("two.example.test")).ok());
  BOOST_TEST(server.state().token_exchanges == 1);
  BOOST_TEST(server.state().create_calls == 2);
}

BOOST_AUTO_TEST_CASE(a_token_near_its_expiry_is_exchanged_again) {
  // Tokens that live 200 s are inside the 5-minute refresh margin at once: every call needs
  // a new grant.
  server.state().token_lifetime = 200;
  auto issuer = make(config());
  BOOST_REQUIRE(issuer->issue(request_for("a.example.test")).ok());
  BOOST_REQUIRE(issuer->issue(request_for("b.example.test")).ok());
  BOOST_TEST(server.state().token_exchanges == 2);
}

BOOST_AUTO_TEST_CASE(the_token_cache_follows_the_clock) {
  // Tokens for 400 s, renewed 300 s before they expire: cached for the first 100 s.
  server.state().token_lifetime = 400;
  auto parsed = connectors::cloud_auth::parse_google_service_account(key_json);
  BOOST_REQUIRE(parsed.ok());
  connectors::cloud_auth::transport_options o;
  o.allow = loopback_context().outbound_allow;
  o.ca_bundle_path = ca.root_path;
  // The mock checks the JWT's iat against the real clock: the injected one starts there.
  std::int64_t now = connectors::cloud_auth::system_seconds();
  connectors::cloud_auth::google_token_source tokens(
      *parsed, "https://www.googleapis.com/auth/cloud-platform", "", o, "test",
      std::chrono::seconds(300), [&now] { return now; });
  auto first = tokens.access_token();
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  now += 99;
  BOOST_TEST(*tokens.access_token() == *first);
  BOOST_TEST(tokens.exchanges() == 1);
  now += 2;  // inside the margin now: a new grant
  auto second = tokens.access_token();
  BOOST_REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().message));
  BOOST_TEST(*second != *first);
  BOOST_TEST(tokens.exchanges() == 2);
}

BOOST_AUTO_TEST_CASE(a_revoked_token_is_replaced_once_and_the_call_succeeds) {
  auto issuer = make(config());
  BOOST_REQUIRE(issuer->issue(request_for("a.example.test")).ok());
  server.state().revoke_all_tokens = true;
  auto again = issuer->issue(request_for("b.example.test"));
  BOOST_REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
  BOOST_TEST(server.state().token_exchanges == 2);
}

BOOST_AUTO_TEST_CASE(a_key_the_token_endpoint_does_not_know_is_a_configuration_error) {
  auto other = crypto::generate_key(crypto::key_type::rsa_2048);
  BOOST_REQUIRE(other.ok());
  auto doc = events::json_object::parse(key_json);
  doc->set("private_key", other->pem);
  auto c = config();
  c.remove("credentials").set("credentials_json", doc->dump());
  auto r = make(c)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(r.error().message, "Invalid JWT Signature"));
  BOOST_TEST(!contains(r.error().message, "PRIVATE KEY"));
  BOOST_TEST(server.state().create_calls == 0);
}

BOOST_AUTO_TEST_CASE(the_documented_errors_map_to_what_the_caller_can_do) {
  auto issuer = make(config());
  server.state().deny_permission = true;
  auto denied = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST(denied.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(denied.error().message, "PERMISSION_DENIED"));
  server.state().deny_permission = false;

  server.state().no_enabled_ca = true;
  auto precondition = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!precondition.ok());
  BOOST_TEST(precondition.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(precondition.error().message, "FAILED_PRECONDITION"));
  server.state().no_enabled_ca = false;

  server.state().reject_csr = true;
  auto refused = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == connectors::issuer_errc::policy_violation);
  BOOST_TEST(contains(refused.error().message, "INVALID_ARGUMENT"));
  server.state().reject_csr = false;

  auto c = config();
  c.set("ca_pool", "no-such-pool");
  auto missing = make(c)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(missing.error().message, "NOT_FOUND"));
}

BOOST_AUTO_TEST_CASE(a_short_retry_after_is_waited_out_and_a_long_one_is_reported) {
  auto issuer = make(config());
  server.state().throttle_next = 1;
  server.state().retry_after = "1";
  auto waited = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE_MESSAGE(waited.ok(), (waited.ok() ? "" : waited.error().message));
  BOOST_TEST(server.state().create_calls == 1);

  server.state().throttle_next = 1;
  server.state().retry_after = "60";
  auto reported = issuer->issue(request_for("b.example.test"));
  BOOST_REQUIRE(!reported.ok());
  BOOST_TEST(reported.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(reported.error().message, "RESOURCE_EXHAUSTED"));
  BOOST_TEST(contains(reported.error().message, "retry after 60 s"));
}

BOOST_AUTO_TEST_CASE(revokes_by_serial_with_the_cas_reason_and_is_idempotent) {
  auto issuer = make(config());
  auto cert = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE(cert.ok());
  BOOST_REQUIRE(issuer->capabilities().revoke);
  auto r = issuer->revoke({cert->serial_hex, "keyCompromise"});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(server.state().certificates.back().revocation_reason == "KEY_COMPROMISE");
  BOOST_TEST(issuer->revoke({cert->serial_hex, "keyCompromise"}).ok());  // already revoked
  auto unknown = issuer->revoke({"0ABCDEF1", ""});
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().code == connectors::issuer_errc::invalid_request);
  auto no_such_reason = issuer->revoke({cert->serial_hex, "removeFromCRL"});
  BOOST_TEST(!no_such_reason.ok());
  BOOST_TEST(connectors::googlecas::cas_reason("cACompromise") ==
             "CERTIFICATE_AUTHORITY_COMPROMISE");
}

BOOST_AUTO_TEST_CASE(the_ca_chain_and_self_test_issue_nothing) {
  auto issuer = make(config());
  BOOST_TEST(issuer->ca_chain_pem() == ca.root_pem);
  auto report = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  BOOST_TEST(contains(report->message, "certctl@proj-1.iam.gserviceaccount.com"));
  BOOST_TEST(report->ca_not_after_us > 0);
  BOOST_TEST(server.state().create_calls == 0);
  BOOST_TEST(server.state().certificates.empty());
}

BOOST_AUTO_TEST_CASE(a_slow_api_times_out_and_a_refused_address_never_connects) {
  server.state().delay = std::chrono::milliseconds(2500);
  auto c = config();
  c.set("timeout_seconds", 1);
  auto slow = make(c)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!slow.ok());
  BOOST_TEST(slow.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(slow.error().message, "timed out"));
  server.state().delay = std::chrono::milliseconds(0);

  auto guarded = make(config(), connectors::builtin_context{})->issue(request_for("b.test"));
  BOOST_REQUIRE(!guarded.ok());
  BOOST_TEST(contains(guarded.error().message, "CERTCTL_OUTBOUND_ALLOW_CIDRS"));
}

BOOST_AUTO_TEST_CASE(bad_configurations_are_refused_at_creation) {
  auto both = config();
  both.set("credentials_json", key_json);
  BOOST_TEST(!connectors::googlecas::make_google_cas_issuer({"x", both}, loopback_context()).ok());
  auto bad_pool = config();
  bad_pool.set("ca_pool", "a/b");
  BOOST_TEST(
      !connectors::googlecas::make_google_cas_issuer({"x", bad_pool}, loopback_context()).ok());
  auto bad_ttl = config();
  bad_ttl.set("ttl", "forever");
  BOOST_TEST(
      !connectors::googlecas::make_google_cas_issuer({"x", bad_ttl}, loopback_context()).ok());
  auto not_a_key = config();
  not_a_key.remove("credentials").set("credentials_json", "{\"type\":\"authorized_user\"}");
  auto refused =
      connectors::googlecas::make_google_cas_issuer({"x", not_a_key}, loopback_context());
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(contains(refused.error().message, "service_account"));
}

BOOST_AUTO_TEST_CASE(the_service_account_key_is_sealed_at_rest_and_redacted_when_shown) {
  connectors::connector_registry only;
  BOOST_REQUIRE(connectors::register_google_cas_connector(only, loopback_context()).ok());
  auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
  BOOST_REQUIRE(master.ok());
  connectors::config_service configs(only, *master);
  auto c = config();
  c.remove("credentials").set("credentials_json", key_json);
  auto stored =
      configs.prepare(connectors::connector_kind::issuer, "GoogleCAS", "iss-cas", c, nullptr);
  BOOST_REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
  const std::string key_body = key_pem.substr(40, 60);
  BOOST_TEST(!contains(stored->dump(), key_body));
  BOOST_TEST(contains(stored->dump(), "sealed:v1:"));
  const std::string shown =
      configs.redact(connectors::connector_kind::issuer, "GoogleCAS", *stored).dump();
  BOOST_TEST(!contains(shown, key_body));
  BOOST_TEST(contains(shown, "********"));
  auto opened = configs.open(connectors::connector_kind::issuer, "GoogleCAS", "iss-cas", *stored);
  BOOST_REQUIRE(opened.ok());
  auto issuer = make(*opened);
  BOOST_TEST(issuer->issue(request_for("sealed.example.test")).ok());
}

BOOST_AUTO_TEST_SUITE_END()
