// The DigiCert CertCentral issuer against a local HTTPS server written from the published
// Services API v2 (tests/support/mock_digicert): what we send (X-DC-DEVKEY, the order's
// shape), the order followed to its certificate, approval and rejection, renewal of an order,
// revocation by serial, cancel, the documented errors (400 errors array, 401, 404, 429 with
// Retry-After), a hung server, and the API key sealed and redacted.
#define BOOST_TEST_MODULE connectors_digicert
#include <boost/test/unit_test.hpp>

#include "connectors/config_service.hpp"
#include "connectors/issuers/digicert/digicert.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_digicert.hpp"

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

// This binary's loopback port (the engineer's range 41000-41099).
constexpr int port = 41000;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct fixture {
  temp_dir tmp;
  t::mock_ca_material ca = t::make_mock_ca(tmp.path(), "digicert");
  t::mock_digicert server{ca, port};

  events::json_object config() {
    events::json_object c;
    c.set("api_key", server_key())
        .set("org_id", 112233)
        .set("product_type", "ssl_basic")
        .set("base_url", server.url())
        .set("ca_bundle_path", ca.root_path)
        .set("timeout_seconds", 5);
    return c;
  }
  std::string server_key() { return server.state().api_key; }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c) {
    connectors::builtin_context ctx;
    ctx.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
    auto i = connectors::digicert::make_digicert_issuer({"iss-dc", c}, ctx);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }
  std::shared_ptr<connectors::issuer> make() { return make(config()); }
};

struct request_and_key {
  connectors::renewal_request request;
  std::string public_key_sha256;
};

request_and_key request_for(const std::string& cn) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn,
                                           {{cn, "www." + cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  request_and_key out;
  out.request.csr_pem = made->csr_pem;
  out.request.common_name = cn;
  out.request.sans.dns = {cn, "www." + cn};
  out.request.ttl_us = 90LL * 86400 * 1000000;
  out.public_key_sha256 = made->csr.public_key_sha256_hex;
  return out;
}

/// Polls until the order is no longer pending (at most `polls` times); the last status.
connectors::order_status follow(connectors::issuer& i, const std::string& order_id, int polls) {
  connectors::order_status s;
  for (int n = 0; n < polls; ++n) {
    auto r = i.get_order_status(order_id);
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    s = *r;
    if (s.state != connectors::order_state::pending) break;
  }
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(digicert)

BOOST_AUTO_TEST_CASE(an_order_is_placed_with_the_key_header_and_followed_to_its_certificate) {
  fixture f;
  f.server.state().pending_polls = 1;
  auto issuer = f.make();
  BOOST_TEST(issuer->type() == "DigiCert");
  BOOST_TEST(issuer->capabilities().async_orders);
  BOOST_TEST(issuer->capabilities().cancel_orders);
  BOOST_TEST(issuer->capabilities().order_timeout_seconds == 600);
  auto r = request_for("shop.example.test");
  auto placed = issuer->issue(r.request);
  BOOST_REQUIRE_MESSAGE(placed.ok(), (placed.ok() ? "" : placed.error().message));
  BOOST_TEST(placed->cert_pem.empty());
  BOOST_TEST(placed->order_id == "100001");
  // The order's shape, as the API reference documents it.
  auto body = events::json_object::parse(f.server.state().last_order_body).value();
  auto cert = events::json_object::parse(body.raw("certificate")).value();
  BOOST_TEST(cert.str("common_name") == "shop.example.test");
  BOOST_TEST(cert.str_array("dns_names") ==
             (std::vector<std::string>{"shop.example.test", "www.shop.example.test"}));
  BOOST_TEST(cert.str("signature_hash") == "sha256");
  BOOST_TEST(events::json_object::parse(body.raw("organization"))->int64("id") == 112233);
  BOOST_TEST(events::json_object::parse(body.raw("order_validity"))->int64("days") == 90);
  BOOST_TEST(body.str("payment_method") == "balance");

  auto first = issuer->get_order_status("100001");
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first->state == connectors::order_state::pending);
  BOOST_TEST(first->ca_state == "processing");
  auto done = follow(*issuer, "100001", 3);
  BOOST_TEST(done.state == connectors::order_state::valid);
  auto leaf = crypto::parse_certificate(done.certificate.cert_pem);
  BOOST_REQUIRE(leaf.ok());
  BOOST_TEST(leaf->public_key_sha256_hex == r.public_key_sha256);
  BOOST_TEST(done.certificate.serial_hex == leaf->serial_hex);
  BOOST_TEST(done.certificate.order_id == "100001");
  BOOST_TEST(f.server.state().unauthorised == 0);
}

BOOST_AUTO_TEST_CASE(approval_then_rejection_are_told_apart) {
  fixture f;
  f.server.state().approval_polls = 2;
  auto issuer = f.make();
  auto placed = issuer->issue(request_for("a.example.test").request);
  BOOST_REQUIRE(placed.ok());
  auto waiting = issuer->get_order_status(placed->order_id);
  BOOST_REQUIRE(waiting.ok());
  BOOST_TEST(waiting->state == connectors::order_state::pending);
  BOOST_TEST(waiting->ca_state == "pending_approval");
  BOOST_TEST(contains(waiting->message, "awaits approval"));
  f.server.state().reject = true;
  auto rejected = issuer->get_order_status(placed->order_id);
  BOOST_REQUIRE(rejected.ok());
  BOOST_TEST(rejected->state == connectors::order_state::invalid);
  BOOST_TEST(contains(rejected->message, "rejected"), rejected->message);
}

BOOST_AUTO_TEST_CASE(an_order_issued_at_once_is_returned_at_once) {
  fixture f;
  f.server.state().issue_immediately = true;
  auto issuer = f.make();
  auto r = request_for("now.example.test");
  auto issued = issuer->issue(r.request);
  BOOST_REQUIRE_MESSAGE(issued.ok(), (issued.ok() ? "" : issued.error().message));
  BOOST_TEST(!issued->cert_pem.empty());
  BOOST_TEST(issued->order_id == "100001");
}

BOOST_AUTO_TEST_CASE(renewal_names_the_previous_order_and_revocation_finds_the_certificate) {
  fixture f;
  auto issuer = f.make();
  auto first = issuer->issue(request_for("r.example.test").request);
  BOOST_REQUIRE(first.ok());
  auto issued = follow(*issuer, first->order_id, 2);
  BOOST_REQUIRE(issued.state == connectors::order_state::valid);
  auto again = request_for("r.example.test");
  again.request.previous_order_id = first->order_id;
  auto renewed = issuer->renew(again.request);
  BOOST_REQUIRE(renewed.ok());
  BOOST_TEST(f.server.state().orders.at(std::stoll(renewed->order_id)).renewal_of == 100001);

  auto revoked = issuer->revoke({issued.certificate.serial_hex, "keyCompromise"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_TEST(f.server.state().revoked_serials ==
             std::vector<std::string>{issued.certificate.serial_hex});
  BOOST_TEST(f.server.state().revoke_reasons == std::vector<std::string>{"key_compromise"});
  // A reason DigiCert does not take is refused before anything is sent.
  auto odd = issuer->revoke({issued.certificate.serial_hex, "privilegeWithdrawn"});
  BOOST_REQUIRE(!odd.ok());
  BOOST_TEST(odd.error().code == connectors::issuer_errc::invalid_request);
  auto unknown = issuer->revoke({"0BADC0DE", ""});
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(contains(unknown.error().message, "no DigiCert certificate with serial 0BADC0DE"));
}

BOOST_AUTO_TEST_CASE(a_pending_order_is_cancelled_and_an_issued_one_cannot_be) {
  fixture f;
  f.server.state().pending_polls = 5;
  auto issuer = f.make();
  auto placed = issuer->issue(request_for("c.example.test").request);
  BOOST_REQUIRE(placed.ok());
  auto cancelled = issuer->cancel_order(placed->order_id);
  BOOST_REQUIRE_MESSAGE(cancelled.ok(), (cancelled.ok() ? "" : cancelled.error().message));
  BOOST_TEST(f.server.state().cancelled == std::vector<std::int64_t>{100001});
  auto after = issuer->get_order_status(placed->order_id);
  BOOST_REQUIRE(after.ok());
  BOOST_TEST(after->state == connectors::order_state::invalid);

  f.server.state().pending_polls = 0;
  auto other = issuer->issue(request_for("d.example.test").request);
  BOOST_REQUIRE(other.ok());
  BOOST_REQUIRE(follow(*issuer, other->order_id, 2).state == connectors::order_state::valid);
  auto refused = issuer->cancel_order(other->order_id);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(contains(refused.error().message, "invalid_order_status"), refused.error().message);
}

BOOST_AUTO_TEST_CASE(the_documented_errors_are_mapped_with_digicerts_words) {
  fixture f;
  auto issuer = f.make();
  // 400 with the errors array.
  f.server.state().refuse_orders = true;
  auto refused = issuer->issue(request_for("bad.example.test").request);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(refused.error().message, "invalid_dns_name: The domain name is not allowed"),
             refused.error().message);
  f.server.state().refuse_orders = false;
  // 429 on a poll: still pending, with the Retry-After as the floor of the next poll.
  auto placed = issuer->issue(request_for("rl.example.test").request);
  BOOST_REQUIRE(placed.ok());
  f.server.state().rate_limit = 1;
  f.server.state().retry_after_seconds = 40;
  auto limited = issuer->get_order_status(placed->order_id);
  BOOST_REQUIRE(limited.ok());
  BOOST_TEST(limited->state == connectors::order_state::pending);
  BOOST_TEST(limited->ca_state == "rate_limited");
  BOOST_TEST(limited->retry_after_us - limited->updated_at_us == 40LL * 1000000);
  // 429 on an order: unavailable (the job retries), naming the wait.
  f.server.state().rate_limit = 1;
  auto busy = issuer->issue(request_for("rl2.example.test").request);
  BOOST_REQUIRE(!busy.ok());
  BOOST_TEST(busy.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(busy.error().message, "retry after 40 s"), busy.error().message);
  // 404: the order is gone.
  f.server.state().forget_orders = true;
  auto gone = issuer->get_order_status(placed->order_id);
  BOOST_REQUIRE(gone.ok());
  BOOST_TEST(gone->state == connectors::order_state::invalid);
  f.server.state().forget_orders = false;
  // 401: a wrong key, in every operation; the key itself is never in a message.
  auto c = f.config();
  c.set("api_key", "not-the-key-5551234");
  auto wrong = f.make(c);
  auto denied = wrong->self_test();
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST(denied.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(denied.error().message, "401"));
  BOOST_TEST(contains(denied.error().message, "check the api_key"));
  BOOST_TEST(!contains(denied.error().message, "not-the-key-5551234"));
  auto denied_poll = wrong->get_order_status(placed->order_id);
  BOOST_REQUIRE(!denied_poll.ok());
  BOOST_TEST(f.server.state().unauthorised == 2);
  // The self test with the right key places nothing.
  const auto orders = f.server.state().orders.size();
  auto ok = issuer->self_test();
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(contains(ok->message, "certctl-api"));
  BOOST_TEST(f.server.state().orders.size() == orders);
}

BOOST_AUTO_TEST_CASE(a_hung_server_is_a_timeout_not_a_hang) {
  fixture f;
  auto c = f.config();
  c.set("timeout_seconds", 1);
  auto issuer = f.make(c);
  f.server.state().delay = std::chrono::milliseconds(2500);
  auto r = issuer->issue(request_for("slow.example.test").request);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(r.error().message, "timed out"), r.error().message);
}

BOOST_AUTO_TEST_CASE(bad_configs_are_refused_naming_the_field) {
  fixture f;
  connectors::builtin_context ctx;
  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"product_type", "../x"}, {"base_url", "http://127.0.0.1:1"}, {"api_key", ""}}) {
    auto c = f.config();
    c.set(field.c_str(), value);
    auto i = connectors::digicert::make_digicert_issuer({"iss-dc", c}, ctx);
    BOOST_TEST(!i.ok(), field);
  }
  auto c = f.config();
  c.set("poll_max_wait_seconds", 5);
  BOOST_TEST(!connectors::digicert::make_digicert_issuer({"iss-dc", c}, ctx).ok());
}

BOOST_AUTO_TEST_CASE(the_api_key_is_sealed_at_rest_and_redacted_when_shown) {
  temp_dir tmp;
  connectors::connector_registry only;
  BOOST_REQUIRE(connectors::register_digicert_connector(only, {}).ok());
  auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
  BOOST_REQUIRE(master.ok());
  connectors::config_service configs(only, *master);
  events::json_object c;
  c.set("api_key", "dc-s3cret-key-value").set("org_id", 1);
  auto stored =
      configs.prepare(connectors::connector_kind::issuer, "DigiCert", "iss-dc", c, nullptr);
  BOOST_REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
  BOOST_TEST(!contains(stored->dump(), "dc-s3cret-key-value"));
  BOOST_TEST(contains(stored->dump(), "sealed:v1:"));
  const auto shown = configs.redact(connectors::connector_kind::issuer, "DigiCert", *stored).dump();
  BOOST_TEST(!contains(shown, "dc-s3cret-key-value"));
  BOOST_TEST(contains(shown, "********"));
}

BOOST_AUTO_TEST_SUITE_END()
