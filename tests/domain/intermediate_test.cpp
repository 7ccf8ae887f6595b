// Its own binary: the intermediate aggregate needs only certctl_domain, not the CAF runtime.
#define BOOST_TEST_MODULE domain_intermediate
#include <boost/test/unit_test.hpp>

#include "domain/intermediate.hpp"
#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

namespace {

const char* const created = R"({"issuer_id":"iss-local","parent_ca_id":"iss-local","name":"int1",
  "certificate_pem":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  "serial_number":"0A1B","not_before":"2026-01-01T00:00:00Z","not_after":"2031-01-01T00:00:00Z",
  "fingerprint_sha256":"ab","key_id":"intermediate-ica-1","subject":{"common_name":"int1"},
  "algorithm":"ECDSA-P256","path_len_constraint":1,"permitted_dns":["example.com"],
  "excluded_dns":[],"ocsp_responder_url":"","metadata":{"team":"pki"},"depth":1})";

domain::domain_errc error_of(const result<domain::decision, domain::domain_error>& r) {
  BOOST_REQUIRE(!r.ok());
  return r.error().code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(intermediate_aggregate)

BOOST_AUTO_TEST_CASE(create_records_the_certificate_and_constraints_but_no_key) {
  scenario s("intermediate", "ica-1");
  auto d = s.when("intermediate.create", created);
  BOOST_REQUIRE(d.ok());
  BOOST_REQUIRE_EQUAL(d->size(), 1u);
  BOOST_TEST(d->front().type == "intermediate.created");
  BOOST_TEST(d->front().payload.raw("path_len_constraint") == "1");
  BOOST_TEST(d->front().payload.dump().find("PRIVATE KEY") == std::string::npos);
  s.given(*d);
  const auto v = s.view();
  BOOST_TEST(v.str("status") == "active");
  BOOST_TEST(v.str("parent_ca_id") == "iss-local");
  BOOST_TEST(v.boolean("issues_certificates") == true);
  BOOST_TEST(v.boolean("serves_revocation_status") == true);
  BOOST_TEST(v.raw("name_constraints") ==
             R"([{"type":"dns","permitted":["example.com"],"excluded":[]}])");
  BOOST_TEST(error_of(s.when("intermediate.create", created)) == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(create_refuses_a_private_key_and_missing_fields) {
  scenario s("intermediate", "ica-1");
  BOOST_TEST(error_of(s.when("intermediate.create", R"({"name":"x"})")) ==
             domain::domain_errc::invalid);
  auto body = events::json_object::parse(created).value();
  body.set("certificate_pem", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
  BOOST_TEST(error_of(s.when("intermediate.create", body.dump())) == domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_CASE(retire_is_two_phase_and_idempotent) {
  scenario s("intermediate", "ica-1");
  s.given_command("intermediate.create", created);
  // confirm=true straight from active is refused: the drain phase comes first.
  BOOST_TEST(error_of(s.when("intermediate.retire", R"({"confirm":true})")) ==
             domain::domain_errc::conflict);
  s.given_command("intermediate.retire", R"({"note":"rotating"})");
  BOOST_TEST(s.view().str("status") == "retiring");
  BOOST_TEST(s.view().boolean("issues_certificates") == false);
  BOOST_TEST(s.view().boolean("serves_revocation_status") == true);
  BOOST_TEST(s.view().str("retire_note") == "rotating");
  BOOST_TEST(s.when("intermediate.retire", R"({})")->empty());  // already retiring
  s.given_command("intermediate.retire", R"({"confirm":true})");
  BOOST_TEST(s.view().str("status") == "retired");
  BOOST_TEST(s.when("intermediate.retire", R"({"confirm":true})")->empty());  // terminal
}

BOOST_AUTO_TEST_CASE(retire_is_refused_while_children_are_active) {
  scenario s("intermediate", "ica-1");
  s.given_command("intermediate.create", created);
  s.given_command("intermediate.child_add", R"({"child_id":"ica-2"})");
  s.given_command("intermediate.retire", R"({})");
  auto refused = s.when("intermediate.retire", R"({"confirm":true})");
  BOOST_TEST(error_of(refused) == domain::domain_errc::conflict);
  BOOST_TEST(refused.error().message.find("ica-2") != std::string::npos);
  s.given_command("intermediate.child_remove", R"({"child_id":"ica-2"})");
  BOOST_TEST(s.view().str_array("active_children").empty());
  s.given_command("intermediate.retire", R"({"confirm":true})");
  BOOST_TEST(s.view().str("status") == "retired");
}

BOOST_AUTO_TEST_CASE(a_retiring_parent_signs_no_new_child) {
  scenario s("intermediate", "ica-1");
  s.given_command("intermediate.create", created);
  s.given_command("intermediate.child_add", R"({"child_id":"ica-2"})");
  BOOST_TEST(s.when("intermediate.child_add", R"({"child_id":"ica-2"})")->empty());  // once
  s.given_command("intermediate.retire", R"({})");
  auto refused = s.when("intermediate.child_add", R"({"child_id":"ica-3"})");
  BOOST_TEST(error_of(refused) == domain::domain_errc::conflict);
  BOOST_TEST(refused.error().message.find("retiring") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(commands_for_an_unknown_intermediate_are_not_found) {
  scenario s("intermediate", "ica-9");
  BOOST_TEST(error_of(s.when("intermediate.retire", "{}")) == domain::domain_errc::not_found);
  BOOST_TEST(error_of(s.when("intermediate.child_add", R"({"child_id":"x"})")) ==
             domain::domain_errc::not_found);
}

BOOST_AUTO_TEST_CASE(snapshot_and_restore_keep_the_state) {
  scenario s("intermediate", "ica-1");
  s.given_command("intermediate.create", created);
  s.given_command("intermediate.child_add", R"({"child_id":"ica-2"})");
  auto copy = domain::make_aggregate("intermediate", "ica-1");
  copy->restore(s.agg().snapshot());
  BOOST_TEST(copy->view().dump() == s.view().dump());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(intermediate_request_parsing)

BOOST_AUTO_TEST_CASE(a_full_request_parses) {
  auto body = events::json_object::parse(R"({"name":"Issuing CA","parent_ca_id":"ica-1",
    "subject":{"common_name":"Issuing CA 1","organization":"Example"},"algorithm":"ECDSA-P384",
    "ttl_days":365,"path_len_constraint":0,
    "name_constraints":[{"type":"dns","permitted":["a.example.com"]},{"excluded":["x.a.example.com"]}],
    "ocsp_responder_url":"http://ocsp.example.com","metadata":{"k":"v"}})")
                  .value();
  auto r = domain::parse_intermediate_request(body);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  BOOST_TEST(r->common_name == "Issuing CA 1");
  BOOST_TEST(r->algorithm == "ECDSA-P384");
  BOOST_TEST(r->ttl_days == 365);
  BOOST_TEST(r->path_len.value() == 0);
  BOOST_TEST(r->permitted_dns == std::vector<std::string>{"a.example.com"});
  BOOST_TEST(r->excluded_dns == std::vector<std::string>{"x.a.example.com"});
  BOOST_TEST(r->metadata_json == R"({"k":"v"})");
}

BOOST_AUTO_TEST_CASE(bad_requests_say_what_is_wrong) {
  auto error = [](const char* text) {
    auto r = domain::parse_intermediate_request(events::json_object::parse(text).value());
    BOOST_REQUIRE(!r.ok());
    return r.error().message;
  };
  BOOST_TEST(error(R"({"parent_ca_id":"iss-local"})").find("'name'") != std::string::npos);
  BOOST_TEST(error(R"({"name":"r","root_cert_pem":"x","key_driver_id":"k"})")
                 .find("operator-supplied roots not supported here") != std::string::npos);
  BOOST_TEST(error(R"({"name":"r"})").find("parent_ca_id") != std::string::npos);
  BOOST_TEST(error(R"({"name":"r","parent_ca_id":"p","algorithm":"DSA"})").find("algorithm") !=
             std::string::npos);
  BOOST_TEST(error(R"({"name":"r","parent_ca_id":"p","path_len_constraint":-1})")
                 .find("path_len_constraint") != std::string::npos);
  BOOST_TEST(error(R"({"name":"r","parent_ca_id":"p","name_constraints":["example.com"]})")
                 .find("array of objects") != std::string::npos);
  BOOST_TEST(error(R"({"name":"r","parent_ca_id":"p","name_constraints":[{"type":"ip"}]})")
                 .find("only dns") != std::string::npos);
  BOOST_TEST(error(R"({"name":"r","parent_ca_id":"p","name_constraints":[{"permited":["a"]}]})")
                 .find("permited") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
