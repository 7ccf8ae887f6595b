// The bulk routes: one request, one outcome per certificate (revoked, skipped, failed), the
// totals of the spec's results, and 400 before anything changes for a bad request.
#include <boost/test/unit_test.hpp>

#include "tests/gateways/rest/rest_fixture.hpp"

using namespace certctl;
using certctl::test::rest_fixture;

BOOST_AUTO_TEST_SUITE(bulk_routes)

BOOST_FIXTURE_TEST_CASE(bulk_revoke_reports_each_certificate_in_request_order, rest_fixture) {
  for (const char* id : {"mc-1", "mc-2", "mc-3", "mc-4"}) create_certificate(id);
  issue("mc-1");
  issue("mc-2");
  issue("mc-4");
  BOOST_REQUIRE(send("POST", "/api/v1/certificates/mc-4/revoke").status == 200);
  auto r = send("POST", "/api/v1/certificates/bulk-revoke",
                R"({"reason": "superseded", "certificate_ids": ["mc-1", "mc-3", "mc-4", "mc-2"]})");
  BOOST_REQUIRE(r.status == 200);
  const auto out = json(r);
  BOOST_TEST(out.int64("total_matched") == 4);
  BOOST_TEST(out.int64("total_revoked") == 2);
  BOOST_TEST(out.int64("total_skipped") == 1);
  BOOST_TEST(out.int64("total_failed") == 1);
  const auto results = out.object_array("results");
  BOOST_REQUIRE(results.size() == 4u);
  BOOST_TEST(results[0].str("status") == "revoked");
  BOOST_TEST(results[1].str("certificate_id") == "mc-3");
  BOOST_TEST(results[1].str("status") == "failed");   // never issued
  BOOST_TEST(results[2].str("status") == "skipped");  // already revoked
  BOOST_TEST(results[3].str("status") == "revoked");
  auto listed = json(read_after(r, "/api/v1/certificates?status=Revoked"));
  BOOST_TEST(listed.int64("total") == 3);
}

BOOST_FIXTURE_TEST_CASE(bulk_revoke_refuses_a_bad_request_before_changing_anything, rest_fixture) {
  create_certificate("mc-1");
  issue("mc-1");
  const std::int64_t before = head();
  auto no_reason =
      send("POST", "/api/v1/certificates/bulk-revoke", R"({"certificate_ids": ["mc-1"]})");
  BOOST_TEST(no_reason.status == 400);
  BOOST_TEST(send("POST", "/api/v1/certificates/bulk-revoke",
                  R"({"reason": "boredom", "certificate_ids": ["mc-1"]})")
                 .status == 400);
  BOOST_TEST(
      send("POST", "/api/v1/certificates/bulk-revoke", R"({"reason": "superseded"})").status ==
      400);
  BOOST_TEST(
      send("POST", "/api/v1/certificates/bulk-revoke", R"({"reason": "superseded", "owner_id": 7})")
          .status == 400);
  BOOST_TEST(head() == before);
}

BOOST_FIXTURE_TEST_CASE(bulk_renew_enqueues_issued_certificates_and_skips_busy_ones, rest_fixture) {
  create_certificate("mc-1");
  create_certificate("mc-2");
  issue("mc-1");
  auto r = send("POST", "/api/v1/certificates/bulk-renew",
                R"({"certificate_ids": ["mc-1", "mc-2", "mc-nope"]})");
  BOOST_REQUIRE(r.status == 200);
  const auto out = json(r);
  BOOST_TEST(out.int64("total_matched") == 3);
  BOOST_TEST(out.int64("total_enqueued") == 1);
  BOOST_TEST(out.int64("total_skipped") == 1);  // mc-2: its first issuance is running
  BOOST_TEST(out.int64("total_failed") == 1);   // mc-nope
  const auto jobs = out.object_array("enqueued_jobs");
  BOOST_REQUIRE(jobs.size() == 1u);
  BOOST_TEST(jobs[0].str("certificate_id") == "mc-1");
  auto job = read_after(r, "/api/v1/jobs/" + jobs[0].str("job_id"));
  BOOST_TEST(job.status == 200);
  BOOST_TEST(json(job).str("type") == "Renewal");
}

BOOST_FIXTURE_TEST_CASE(bulk_renew_by_owner_selects_from_the_read_model, rest_fixture) {
  create_certificate("mc-1");
  create_certificate("mc-2");
  issue("mc-1");
  issue("mc-2");
  const std::string position = std::to_string(head());
  auto r = send("POST", "/api/v1/certificates/bulk-renew", R"({"owner_id": "o-1"})",
                {{"X-Certctl-Wait-For-Position", position}});
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(json(r).int64("total_matched") == 2);
  BOOST_TEST(json(r).int64("total_enqueued") == 2);
}

BOOST_FIXTURE_TEST_CASE(bulk_reassign_needs_an_existing_owner_and_skips_unchanged_ones,
                        rest_fixture) {
  create_certificate("mc-1");
  create_certificate("mc-2");
  auto unknown = send("POST", "/api/v1/certificates/bulk-reassign",
                      R"({"certificate_ids": ["mc-1"], "owner_id": "owner-x"})");
  BOOST_TEST(unknown.status == 400);
  BOOST_TEST(json(unknown).str("error") == "owner owner-x does not exist");
  BOOST_REQUIRE(send("POST", "/api/v1/owners", R"({"id": "owner-b", "name": "B"})").status == 201);
  BOOST_REQUIRE(send("PUT", "/api/v1/certificates/mc-2", R"({"owner_id": "owner-b"})").status ==
                200);
  auto r = send("POST", "/api/v1/certificates/bulk-reassign",
                R"({"certificate_ids": ["mc-1", "mc-2", "mc-nope"], "owner_id": "owner-b"})");
  BOOST_REQUIRE(r.status == 200);
  const auto out = json(r);
  BOOST_TEST(out.int64("total_reassigned") == 1);
  BOOST_TEST(out.int64("total_skipped") == 1);
  BOOST_TEST(out.int64("total_failed") == 1);
  BOOST_TEST(json(read_after(r, "/api/v1/certificates/mc-1")).str("owner_id") == "owner-b");
  BOOST_TEST(
      send("POST", "/api/v1/certificates/bulk-reassign", R"({"owner_id": "owner-b"})").status ==
      400);
}

BOOST_AUTO_TEST_SUITE_END()
