// The Sectigo Certificate Manager issuer against a local HTTPS server written from the
// published SCM REST API (tests/support/mock_sectigo): the login triple on every request, the
// enrollment's shape, Requested (approval) / Applied / collect's -183 (not ready) / Issued,
// decline as cancel, revocation by serial, the documented errors (400 code/description, 401,
// 404, 429 with Retry-After), a hung server, and the password sealed and redacted.
#define BOOST_TEST_MODULE connectors_sectigo
#include <boost/test/unit_test.hpp>

#include "connectors/config_service.hpp"
#include "connectors/issuers/sectigo/sectigo.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_sectigo.hpp"

using namespace certctl;
using certctl::test::temp_dir;
namespace t = certctl::testing;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, issuer_errc c) {
  return o << to_string(c);
}
std::ostream& operator<<(std::ostream& o, order_state s) {
  return o << to_string(s);
}
}  // namespace certctl::connectors

namespace {

constexpr int port = 41010;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct fixture {
  temp_dir tmp;
  t::mock_ca_material ca = t::make_mock_ca(tmp.path(), "sectigo");
  t::mock_sectigo server{ca, port};

  events::json_object config() {
    auto& s = server.state();
    events::json_object c;
    c.set("customer_uri", s.customer_uri)
        .set("login", s.login)
        .set("password", s.password)
        .set("org_id", s.org_id)
        .set("cert_type", s.cert_type)
        .set("term", 365)
        .set("base_url", server.url())
        .set("ca_bundle_path", ca.root_path)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c) {
    connectors::builtin_context ctx;
    ctx.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
    auto i = connectors::sectigo::make_sectigo_issuer({"iss-sg", c}, ctx);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }
  std::shared_ptr<connectors::issuer> make() { return make(config()); }
};

connectors::issuance_request request_for(const std::string& cn, std::string* key_hash = nullptr) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn,
                                           {{cn, "api." + cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  connectors::issuance_request r;
  r.csr_pem = made->csr_pem;
  r.common_name = cn;
  r.sans.dns = {cn, "api." + cn};
  if (key_hash) *key_hash = made->csr.public_key_sha256_hex;
  return r;
}

connectors::order_status poll(connectors::issuer& i, const std::string& id) {
  auto r = i.get_order_status(id);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sectigo)

BOOST_AUTO_TEST_CASE(an_enrollment_waits_for_approval_and_collection_then_is_issued) {
  fixture f;
  f.server.state().approval_polls = 1;
  f.server.state().pending_polls = 1;
  f.server.state().not_ready_collects = 1;
  auto issuer = f.make();
  BOOST_TEST(issuer->type() == "Sectigo");
  std::string key_hash;
  auto placed = issuer->issue(request_for("mail.example.test", &key_hash));
  BOOST_REQUIRE_MESSAGE(placed.ok(), (placed.ok() ? "" : placed.error().message));
  BOOST_TEST(placed->order_id == "5001");
  BOOST_TEST(placed->cert_pem.empty());
  auto body = events::json_object::parse(f.server.state().last_enroll_body).value();
  BOOST_TEST(body.int64("orgId") == 1234);
  BOOST_TEST(body.int64("certType") == 423);
  BOOST_TEST(body.int64("term") == 365);
  BOOST_TEST(body.str("subjAltNames") == "mail.example.test,api.mail.example.test");

  auto approval = poll(*issuer, "5001");  // Requested
  BOOST_TEST(approval.state == connectors::order_state::pending);
  BOOST_TEST(approval.ca_state == "pending_approval");
  BOOST_TEST(contains(approval.message, "awaits approval"));
  auto applied = poll(*issuer, "5001");  // Applied
  BOOST_TEST(applied.ca_state == "processing");
  auto not_ready = poll(*issuer, "5001");  // Issued, collect answers -183
  BOOST_TEST(not_ready.state == connectors::order_state::pending);
  BOOST_TEST(contains(not_ready.message, "not ready to collect"));
  auto issued = poll(*issuer, "5001");
  BOOST_TEST(issued.state == connectors::order_state::valid);
  auto leaf = crypto::parse_certificate(issued.certificate.cert_pem);
  BOOST_REQUIRE(leaf.ok());
  BOOST_TEST(leaf->public_key_sha256_hex == key_hash);
  BOOST_TEST(contains(issued.certificate.chain_pem, "BEGIN CERTIFICATE"));  // x509: with chain
  BOOST_TEST(f.server.state().unauthorised == 0);

  auto revoked = issuer->revoke({issued.certificate.serial_hex, "superseded"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_TEST(f.server.state().revoked_serials ==
             std::vector<std::string>{issued.certificate.serial_hex});
  BOOST_TEST(f.server.state().revoke_codes == std::vector<std::int64_t>{4});
}

BOOST_AUTO_TEST_CASE(a_requested_enrollment_is_declined_as_cancel_and_a_declined_one_fails) {
  fixture f;
  f.server.state().pending_polls = 3;
  auto issuer = f.make();
  auto placed = issuer->issue(request_for("x.example.test"));
  BOOST_REQUIRE(placed.ok());
  auto cancelled = issuer->cancel_order(placed->order_id);
  BOOST_REQUIRE_MESSAGE(cancelled.ok(), (cancelled.ok() ? "" : cancelled.error().message));
  BOOST_TEST(f.server.state().declined == std::vector<std::int64_t>{5001});
  auto after = poll(*issuer, placed->order_id);
  BOOST_TEST(after.state == connectors::order_state::invalid);
  BOOST_TEST(contains(after.message, "Declined"));
  f.server.state().decline = true;
  auto other = issuer->issue(request_for("y.example.test"));
  BOOST_REQUIRE(other.ok());
  BOOST_TEST(poll(*issuer, other->order_id).state == connectors::order_state::invalid);
}

BOOST_AUTO_TEST_CASE(the_documented_errors_are_mapped_with_sectigos_words) {
  fixture f;
  auto issuer = f.make();
  f.server.state().refuse_enroll = true;
  auto refused = issuer->issue(request_for("bad.example.test"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(refused.error().message, "code -9: Domain is not allowed"),
             refused.error().message);
  f.server.state().refuse_enroll = false;
  auto placed = issuer->issue(request_for("ok.example.test"));
  BOOST_REQUIRE(placed.ok());
  f.server.state().rate_limit = 1;
  f.server.state().retry_after_seconds = 30;
  auto limited = poll(*issuer, placed->order_id);
  BOOST_TEST(limited.ca_state == "rate_limited");
  BOOST_TEST(limited.retry_after_us - limited.updated_at_us == 30LL * 1000000);
  f.server.state().forget = true;
  BOOST_TEST(poll(*issuer, placed->order_id).state == connectors::order_state::invalid);
  f.server.state().forget = false;

  auto c = f.config();
  c.set("password", "wrong-pw-77665544");
  auto wrong = f.make(c);
  auto denied = wrong->self_test();
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST(contains(denied.error().message, "401"));
  BOOST_TEST(contains(denied.error().message, "Unknown user"));
  BOOST_TEST(!contains(denied.error().message, "wrong-pw-77665544"));
  BOOST_TEST(f.server.state().unauthorised == 1);

  auto ok = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  BOOST_TEST(contains(ok->message, "InstantSSL Pro"));
  auto other_type = f.config();
  other_type.set("cert_type", 77);
  auto missing = f.make(other_type)->self_test();
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(contains(missing.error().message, "not offered"));
}

BOOST_AUTO_TEST_CASE(a_hung_server_is_a_timeout_not_a_hang) {
  fixture f;
  auto c = f.config();
  c.set("timeout_seconds", 1);
  auto issuer = f.make(c);
  f.server.state().delay = std::chrono::milliseconds(2500);
  auto r = issuer->issue(request_for("slow.example.test"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(r.error().message, "timed out"), r.error().message);
}

BOOST_AUTO_TEST_CASE(the_password_is_sealed_at_rest_and_redacted_when_shown) {
  temp_dir tmp;
  connectors::connector_registry only;
  BOOST_REQUIRE(connectors::register_sectigo_connector(only, {}).ok());
  auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
  BOOST_REQUIRE(master.ok());
  connectors::config_service configs(only, *master);
  events::json_object c;
  c.set("customer_uri", "acme")
      .set("login", "api")
      .set("password", "sg-s3cret-pa55")
      .set("org_id", 1)
      .set("cert_type", 2);
  auto stored =
      configs.prepare(connectors::connector_kind::issuer, "Sectigo", "iss-sg", c, nullptr);
  BOOST_REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
  BOOST_TEST(!contains(stored->dump(), "sg-s3cret-pa55"));
  const auto shown = configs.redact(connectors::connector_kind::issuer, "Sectigo", *stored).dump();
  BOOST_TEST(!contains(shown, "sg-s3cret-pa55"));
  BOOST_TEST(contains(shown, "********"));
  BOOST_TEST(contains(shown, "api"));  // the login is not a secret
}

BOOST_AUTO_TEST_SUITE_END()
