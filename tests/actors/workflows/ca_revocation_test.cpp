// Revocation across issuers (actors/workflows/ca_revocation): the CA is told after the local
// record, retried with backoff while it is unavailable, not retried on a permanent error, not
// told at all by issuers that do not revoke at a CA, and the outcome is one event per
// revocation however often the notice is queued. In-process: memory store, entity runtime,
// an issuer double that scripts the CA's answers.
#include <boost/test/unit_test.hpp>

#include <deque>
#include <mutex>
#include <thread>

#include "actors/workflows/ca_revocation.hpp"
#include "connectors/issuers/issuer.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

/// A CA that answers revoke() from a script of outcomes (then success), and remembers calls.
class scripted_ca final : public connectors::issuer {
 public:
  explicit scripted_ca(bool revokes) : revokes_(revokes) {}
  std::string_view type() const override { return "Scripted"; }
  const std::string& id() const override { return id_; }
  std::string ca_chain_pem() const override { return {}; }
  certctl::result<connectors::issued_certificate, connectors::issuer_error> issue(
      const connectors::issuance_request&) override {
    return connectors::issuer_error{connectors::issuer_errc::unsupported, "not here"};
  }
  connectors::issuer_capabilities capabilities() const override {
    connectors::issuer_capabilities c;
    c.revoke = revokes_;
    return c;
  }
  certctl::result<done, connectors::issuer_error> revoke(
      const connectors::revocation_request& r) override {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(r);
    if (answers.empty()) return done{};
    auto code = answers.front();
    answers.pop_front();
    return connectors::issuer_error{code, "CA says no (" + std::string(to_string(code)) + ")"};
  }

  std::mutex mu;
  std::deque<connectors::issuer_errc> answers;
  std::vector<connectors::revocation_request> calls;

 private:
  bool revokes_;
  std::string id_ = "iss-scripted";
};

struct fixture {
  fixture() : store(store::make_memory_store()), clock(1790000000000000), runtime(*store, clock) {}

  void exec(const std::string& name, const std::string& body) {
    domain::command c;
    c.name = name;
    c.entity_id = "mc-1";
    c.body = events::json_object::parse(body).value();
    c.principal = "apikey:test";
    auto r = runtime.execute("certificate", std::move(c));
    BOOST_REQUIRE_MESSAGE(r.ok(), name + ": " + (r.ok() ? "" : r.error().message));
  }

  /// A certificate of issuer iss-scripted, issued (serial 0A1B) and revoked for keyCompromise.
  void revoked_certificate() {
    exec("certificate.create", R"({"name":"web","common_name":"web.example.com",)"
                               R"("renewal_policy_id":"rp-1","issuer_id":"iss-scripted",)"
                               R"("owner_id":"o-1","team_id":"t-1"})");
    exec("certificate.record_issued",
         R"({"job_id":"job-1","serial_number":"0A1B","not_before":"2026-01-01T00:00:00Z",)"
         R"("not_after":"2026-04-01T00:00:00Z","fingerprint_sha256":"ab","pem_chain":"x"})");
    exec("certificate.revoke", R"({"reason":"keyCompromise"})");
  }

  actors::ca_revocation_service make(std::shared_ptr<connectors::issuer> ca) {
    actors::ca_revocation_options o;
    o.max_attempts = 3;
    o.first_backoff = std::chrono::milliseconds(1);
    o.max_backoff = std::chrono::milliseconds(4);
    return actors::ca_revocation_service(
        runtime, *store,
        [ca](const std::string& id)
            -> certctl::result<std::shared_ptr<connectors::issuer>, std::string> {
          if (id != "iss-scripted") return std::shared_ptr<connectors::issuer>();
          return ca;
        },
        o);
  }

  /// Waits (bounded) until the service has nothing queued or running.
  static void drain(const actors::ca_revocation_service& s) {
    for (int i = 0; i < 5000 && s.pending() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    BOOST_REQUIRE_EQUAL(s.pending(), 0u);
  }

  std::vector<events::recorded_event> outcomes() {
    auto all = store->read_stream("certificate-mc-1");
    BOOST_REQUIRE(all.ok());
    std::vector<events::recorded_event> out;
    for (const auto& e : *all)
      if (e.type.rfind("certificate.ca_revocation_", 0) == 0) out.push_back(e);
    return out;
  }

  std::unique_ptr<store::event_store> store;
  infra::manual_clock clock;
  actors::entity_runtime runtime;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ca_revocation, fixture)

BOOST_AUTO_TEST_CASE(an_unavailable_ca_is_retried_and_the_success_recorded_once) {
  revoked_certificate();
  auto ca = std::make_shared<scripted_ca>(true);
  ca->answers = {connectors::issuer_errc::unavailable};
  {
    auto service = make(ca);
    service.notify("mc-1", "req-1");
    drain(service);
    service.notify("mc-1", "req-1");  // again: already answered, the CA is not asked twice
    drain(service);
  }
  BOOST_REQUIRE_EQUAL(ca->calls.size(), 2u);
  BOOST_TEST(ca->calls[0].serial_hex == "0A1B");
  BOOST_TEST(ca->calls[0].reason == "keyCompromise");
  auto out = outcomes();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].type == "certificate.ca_revocation_succeeded");
  auto p = events::json_object::parse(out[0].payload).value();
  BOOST_TEST(p.int64("attempts") == 2);
  BOOST_TEST(p.str("issuer_id") == "iss-scripted");
  BOOST_TEST(p.str("issuer_type") == "Scripted");
  BOOST_TEST(out[0].correlation_id == "req-1");
}

BOOST_AUTO_TEST_CASE(a_permanent_error_is_recorded_at_once_and_the_certificate_stays_revoked) {
  revoked_certificate();
  auto ca = std::make_shared<scripted_ca>(true);
  ca->answers = {connectors::issuer_errc::invalid_request};
  {
    auto service = make(ca);
    service.notify("mc-1");
    drain(service);
  }
  BOOST_TEST(ca->calls.size() == 1u);
  auto out = outcomes();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].type == "certificate.ca_revocation_failed");
  BOOST_TEST(events::json_object::parse(out[0].payload)->str("error").find("CA says no") !=
             std::string::npos);
  BOOST_TEST(runtime.read("certificate", "mc-1")->view.str("status") == "Revoked");
}

BOOST_AUTO_TEST_CASE(a_ca_down_for_every_attempt_ends_failed_after_max_attempts) {
  revoked_certificate();
  auto ca = std::make_shared<scripted_ca>(true);
  ca->answers = {connectors::issuer_errc::unavailable, connectors::issuer_errc::unavailable,
                 connectors::issuer_errc::unavailable, connectors::issuer_errc::unavailable};
  {
    auto service = make(ca);
    service.notify("mc-1");
    drain(service);
  }
  BOOST_TEST(ca->calls.size() == 3u);
  auto out = outcomes();
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].type == "certificate.ca_revocation_failed");
  BOOST_TEST(events::json_object::parse(out[0].payload)->int64("attempts") == 3);
}

BOOST_AUTO_TEST_CASE(an_issuer_that_does_not_revoke_at_a_ca_is_not_asked) {
  revoked_certificate();
  auto ca = std::make_shared<scripted_ca>(false);
  {
    auto service = make(ca);
    service.notify("mc-1");
    drain(service);
  }
  BOOST_TEST(ca->calls.empty());
  BOOST_TEST(outcomes().empty());
}

BOOST_AUTO_TEST_CASE(the_outcome_needs_a_revoked_certificate) {
  exec("certificate.create", R"({"name":"web","common_name":"web.example.com",)"
                             R"("renewal_policy_id":"rp-1","issuer_id":"iss-scripted",)"
                             R"("owner_id":"o-1","team_id":"t-1"})");
  domain::command c;
  c.name = "certificate.record_ca_revocation";
  c.entity_id = "mc-1";
  c.body.set("serial_number", "0A").set("issuer_id", "x").set("outcome", "succeeded");
  BOOST_TEST(!runtime.execute("certificate", c).ok());
}

BOOST_AUTO_TEST_SUITE_END()
