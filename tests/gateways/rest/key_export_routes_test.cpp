// The private-key export: its permission, its audit record, and the refusal to hand out a key
// the server does not hold (agent keygen).

#include <boost/test/unit_test.hpp>

#include "events/time.hpp"
#include "gateways/rest/key_export_routes.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/gateways/rest/rest_fixture.hpp"

using namespace certctl;
using certctl::test::rest_fixture;
namespace http = gateways::http;

namespace {

constexpr const char* passphrase = "p12-s3cret-phrase";

/// A self-signed leaf for `id` and its key (nothing here needs a CA: the export only pairs the
/// stored leaf with the stored key).
struct leaf {
  std::string cert_pem;
  std::string key_pem;
};

leaf make_leaf(const std::string& id, events::timestamp_us now) {
  auto key = crypto::generate_key();
  BOOST_REQUIRE(key.ok());
  crypto::certificate_template t;
  t.subject.common_name = id + ".example.com";
  t.not_before = now / 1'000'000 - 60;
  t.not_after = t.not_before + 86400;
  auto cert = crypto::self_sign(key->pem, t);
  BOOST_REQUIRE(cert.ok());
  return {cert.value(), key->pem};
}

/// Records `cert_pem` as the certificate's issued version, as the issuance service would.
void record_version(rest_fixture& f, const std::string& id, const std::string& cert_pem) {
  domain::command c;
  c.name = "certificate.record_issued";
  c.entity_id = id;
  c.principal = "system:test";
  c.body.set("job_id", "job-" + id + "-" + std::to_string(f.head()))
      .set("version_id", "cv-" + std::to_string(f.head()))
      .set("serial_number", "0B" + std::to_string(f.head()))
      .set("not_before", events::format_rfc3339(f.clock.now() - 60'000'000))
      .set("not_after", events::format_rfc3339(f.clock.now() + 86400LL * 1'000'000))
      .set("fingerprint_sha256", std::string(64, 'b'))
      .set("pem_chain", cert_pem);
  auto r = f.runtime.execute("certificate", c);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
}

std::vector<events::recorded_event> key_exports_of(rest_fixture& f, const std::string& id) {
  auto events = f.store->read_stream("certificate-" + id);
  BOOST_REQUIRE(events.ok());
  std::vector<events::recorded_event> out;
  for (auto& e : *events)
    if (e.type == "certificate.key_exported") out.push_back(e);
  return out;
}

http::response export_p12(rest_fixture& f, const std::string& id) {
  return f.send("POST", "/api/v1/certificates/" + id + "/export/pkcs12",
                std::string(R"({"password":")") + passphrase + "\"}");
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(an_export_of_a_server_held_key_is_audited_before_it_is_answered,
                        rest_fixture) {
  create_certificate("mc-1");
  const leaf l = make_leaf("mc-1", clock.now());
  BOOST_REQUIRE(keys.put("mc-1", l.key_pem).ok());
  record_version(*this, "mc-1", l.cert_pem);
  auto r = read("/api/v1/certificates/mc-1/versions");
  BOOST_REQUIRE(r.status == 200);

  auto p12 = export_p12(*this, "mc-1");
  BOOST_REQUIRE_MESSAGE(p12.status == 200, p12.status << " " << p12.error.value_or(""));
  BOOST_TEST(p12.content_type == "application/x-pkcs12");
  BOOST_TEST(!p12.body.empty());

  const auto audit = key_exports_of(*this, "mc-1");
  BOOST_REQUIRE(audit.size() == 1u);
  const auto& e = audit[0];
  // Auth is off in the fixture: the caller is the anonymous admin (principal_of).
  BOOST_TEST(e.principal == "apikey:anonymous");
  BOOST_TEST(e.source_address == "127.0.0.1");
  auto payload = events::json_object::parse(e.payload);
  BOOST_REQUIRE(payload.has_value());
  BOOST_TEST(payload->str("format") == "pkcs12");
  BOOST_TEST(payload->str("serial_number").rfind("0B", 0) == 0u);
  BOOST_TEST(!payload->str("version_id").empty());
  // Never the key, never the passphrase.
  BOOST_TEST(e.payload.find(passphrase) == std::string::npos);
  BOOST_TEST(e.payload.find("PRIVATE KEY") == std::string::npos);

  // A second export is a second record.
  BOOST_TEST(export_p12(*this, "mc-1").status == 200);
  BOOST_TEST(key_exports_of(*this, "mc-1").size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(a_certificate_whose_key_the_agent_generated_is_409_and_not_audited,
                        rest_fixture) {
  create_certificate("mc-agent");
  const leaf l = make_leaf("mc-agent", clock.now());
  record_version(*this, "mc-agent", l.cert_pem);  // no key in the server's key store
  read("/api/v1/certificates/mc-agent");
  const auto before = head();
  auto r = export_p12(*this, "mc-agent");
  BOOST_TEST(r.status == 409);
  BOOST_TEST(r.error.value_or("").find("the server holds no private key") != std::string::npos,
             r.error.value_or(""));
  BOOST_TEST(r.error.value_or("").find("/export/pem") != std::string::npos);
  BOOST_TEST(head() == before);
  BOOST_TEST(key_exports_of(*this, "mc-agent").empty());
}

BOOST_FIXTURE_TEST_CASE(a_stale_server_key_that_does_not_match_the_current_leaf_is_never_exported,
                        rest_fixture) {
  create_certificate("mc-2");
  const leaf old_version = make_leaf("mc-2", clock.now());
  BOOST_REQUIRE(keys.put("mc-2", old_version.key_pem).ok());
  // The next version was keyed by an agent: the stored key belongs to the old leaf.
  record_version(*this, "mc-2", make_leaf("mc-2", clock.now()).cert_pem);
  read("/api/v1/certificates/mc-2");
  auto r = export_p12(*this, "mc-2");
  BOOST_TEST(r.status == 409);
  BOOST_TEST(key_exports_of(*this, "mc-2").empty());
}

BOOST_FIXTURE_TEST_CASE(missing_password_unknown_certificate_and_no_version_change_nothing,
                        rest_fixture) {
  create_certificate("mc-3");
  const auto before = head();
  BOOST_TEST(send("POST", "/api/v1/certificates/mc-3/export/pkcs12", "{}").status == 400);
  BOOST_TEST(export_p12(*this, "mc-none").status == 404);
  BOOST_TEST(export_p12(*this, "mc-3").status == 404);  // created, never issued
  BOOST_TEST(head() == before);
}

BOOST_AUTO_TEST_CASE(only_admin_may_export_a_private_key_and_only_admin_reaches_the_route) {
  events::json_object cert;
  cert.set("owner_id", "o-1").set("team_id", "t-1");
  using http::role;
  BOOST_TEST(gateways::rest::may_export_private_key({"root", role::admin, nullptr, {}}, cert));
  for (role r : {role::viewer, role::operator_, role::agent, role::auditor, role::none})
    BOOST_TEST(!gateways::rest::may_export_private_key({"k", r, nullptr}, cert),
               http::to_string(r));
  const auto rule = gateways::rest::key_export_access();
  BOOST_TEST(rule.describe() == "admin");
}
