// Given events, when a command, then events or an error: the certificate's rules as sentences.
#define BOOST_TEST_MODULE domain
#include <boost/test/unit_test.hpp>

#include "tests/domain/given_when_then.hpp"

using namespace certctl;
using certctl::testing::scenario;

namespace {
const char* create_body =
    R"({"name":"web","common_name":"www.example.test","sans":["www.example.test","api.example.test"],)"
    R"("renewal_policy_id":"rp-default","issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1"})";
const char* issued_body =
    R"({"job_id":"job-1","serial_number":"0A1B","not_before":"2026-01-01T00:00:00Z",)"
    R"("not_after":"2026-04-01T00:00:00Z","fingerprint_sha256":"ab","pem_chain":"-----BEGIN CERTIFICATE-----"})";
}  // namespace

BOOST_AUTO_TEST_SUITE(certificate_aggregate)

BOOST_AUTO_TEST_CASE(creating_a_certificate_records_it_as_pending) {
  scenario s("certificate", "mc-1");
  auto then = s.when("certificate.create", create_body);
  BOOST_REQUIRE(then.ok());
  BOOST_REQUIRE(then->size() == 1u);
  BOOST_TEST((*then)[0].type == "certificate.created");
  s.given(*then);
  BOOST_TEST(s.view().str("status") == "Pending");
  BOOST_TEST(s.view().str_array("sans").size() == 2u);
}

BOOST_AUTO_TEST_CASE(creating_without_required_fields_is_rejected_naming_the_field) {
  scenario s("certificate", "mc-1");
  auto then = s.when("certificate.create", R"({"name":"web","common_name":"x"})");
  BOOST_REQUIRE(!then.ok());
  BOOST_TEST(then.error().code == domain::domain_errc::invalid);
  BOOST_TEST(then.error().message.find("renewal_policy_id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_field_of_the_wrong_type_is_rejected) {
  scenario s("certificate", "mc-1");
  auto then =
      s.when("certificate.create",
             R"({"name":"web","common_name":"x","sans":"not-an-array","renewal_policy_id":"r",)"
             R"("issuer_id":"i","owner_id":"o","team_id":"t"})");
  BOOST_REQUIRE(!then.ok());
  BOOST_TEST(then.error().message.find("'sans' must be an array of strings") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(creating_twice_is_a_conflict) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  auto then = s.when("certificate.create", create_body);
  BOOST_REQUIRE(!then.ok());
  BOOST_TEST(then.error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(commands_to_a_missing_certificate_are_not_found) {
  scenario s("certificate", "mc-404");
  for (const char* name : {"certificate.update", "certificate.renew", "certificate.revoke",
                           "certificate.archive", "certificate.record_issued"}) {
    auto then = s.when(name, "{}");
    BOOST_REQUIRE(!then.ok());
    BOOST_TEST(then.error().code == domain::domain_errc::not_found);
  }
}

BOOST_AUTO_TEST_CASE(an_issued_version_makes_the_certificate_active_until_its_expiry) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  auto then = s.when("certificate.record_issued", issued_body);
  BOOST_REQUIRE(then.ok());
  BOOST_TEST((*then)[0].type == "certificate.issued");
  s.given(*then);
  BOOST_TEST(s.view().str("status") == "Active");
  BOOST_TEST(s.view().str("expires_at") == "2026-04-01T00:00:00Z");
  BOOST_TEST(!s.view().has("serial_number"));  // per-issuance fields live on versions
}

BOOST_AUTO_TEST_CASE(a_job_records_one_version_and_a_retried_job_learns_it_before_signing) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  auto before = s.when("certificate.check_issuance", R"({"job_id":"job-1"})");
  BOOST_REQUIRE(before.ok());
  BOOST_TEST(before->empty());
  s.given_command("certificate.record_issued", issued_body);
  // The worker died before job.complete; the retried job must not issue a second version.
  auto check = s.when("certificate.check_issuance", R"({"job_id":"job-1"})");
  BOOST_REQUIRE(!check.ok());
  BOOST_TEST(check.error().code == domain::domain_errc::conflict);
  auto twice = s.when("certificate.record_issued", issued_body);
  BOOST_REQUIRE(!twice.ok());
  BOOST_TEST(twice.error().code == domain::domain_errc::conflict);
  // Another job (a renewal) is free to issue.
  BOOST_TEST(s.when("certificate.check_issuance", R"({"job_id":"job-2"})").ok());
}

BOOST_AUTO_TEST_CASE(renewing_an_active_certificate_starts_a_renewal_and_a_second_renew_conflicts) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.record_issued", issued_body);
  auto then = s.when("certificate.renew", R"({"job_id":"job-2"})");
  BOOST_REQUIRE(then.ok());
  BOOST_TEST((*then)[0].type == "certificate.renewal_requested");
  s.given(*then);
  BOOST_TEST(s.view().str("status") == "RenewalInProgress");
  auto again = s.when("certificate.renew", "{}");
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(a_revoked_certificate_cannot_be_renewed_or_revoked_again) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.record_issued", issued_body);
  auto revoked = s.when("certificate.revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE(revoked.ok());
  BOOST_TEST((*revoked)[0].payload.int64("reason_code") == 1);
  BOOST_TEST((*revoked)[0].payload.str("serial_number") == "0A1B");
  s.given(*revoked);
  BOOST_TEST(s.view().str("status") == "Revoked");
  BOOST_TEST(s.view().str("revocation_reason") == "keyCompromise");
  BOOST_TEST(s.when("certificate.renew", "{}").error().code == domain::domain_errc::conflict);
  BOOST_TEST(s.when("certificate.revoke", "{}").error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(an_unknown_revocation_reason_is_invalid) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.record_issued", issued_body);
  auto then = s.when("certificate.revoke", R"({"reason":"becauseISaidSo"})");
  BOOST_REQUIRE(!then.ok());
  BOOST_TEST(then.error().code == domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_CASE(a_certificate_never_issued_cannot_be_revoked) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  BOOST_TEST(s.when("certificate.revoke", "{}").error().code == domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(archiving_is_final_for_updates_and_idempotent) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.archive", "{}");
  BOOST_TEST(s.view().str("status") == "Archived");
  BOOST_TEST(s.when("certificate.archive", "{}")->empty());
  BOOST_TEST(s.when("certificate.update", R"({"name":"x"})").error().code ==
             domain::domain_errc::conflict);
}

BOOST_AUTO_TEST_CASE(the_scheduler_marks_active_certificates_expiring_then_expired) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.record_issued", issued_body);
  s.given_command("certificate.mark_status", R"({"status":"Expiring"})");
  BOOST_TEST(s.view().str("status") == "Expiring");
  BOOST_TEST(s.when("certificate.mark_status", R"({"status":"Expiring"})")->empty());
  s.given_command("certificate.mark_status", R"({"status":"Expired"})");
  BOOST_TEST(s.view().str("status") == "Expired");
  BOOST_TEST(s.when("certificate.mark_status", R"({"status":"Active"})").error().code ==
             domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_CASE(a_failed_issuance_marks_the_certificate_failed_and_allows_a_new_attempt) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.record_failure", R"({"job_id":"job-1","error":"CA down"})");
  BOOST_TEST(s.view().str("status") == "Failed");
  BOOST_TEST(s.when("certificate.renew", "{}").ok());
}

BOOST_AUTO_TEST_CASE(a_snapshot_restores_the_same_state) {
  scenario s("certificate", "mc-1");
  s.given_command("certificate.create", create_body);
  s.given_command("certificate.record_issued", issued_body);
  auto copy = domain::make_aggregate("certificate", "mc-1");
  copy->restore(s.agg().snapshot());
  BOOST_TEST(copy->view().dump() == s.view().dump());
  // the restored copy still knows the serial, so it can revoke
  domain::command c;
  c.name = "certificate.revoke";
  c.entity_id = "mc-1";
  BOOST_TEST(copy->decide(c).ok());
}

BOOST_AUTO_TEST_SUITE_END()
