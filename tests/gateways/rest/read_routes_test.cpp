// The read routes answer from the read models: lists in the spec's pagination envelope
// {data,total,page,per_page}, filters, 404 with the spec's error body, 400 for bad paging.
#include <boost/test/unit_test.hpp>

#include "tests/gateways/rest/rest_fixture.hpp"

using namespace certctl;
using certctl::test::rest_fixture;

BOOST_AUTO_TEST_SUITE(read_routes)

BOOST_FIXTURE_TEST_CASE(lists_are_paged_in_the_spec_envelope, rest_fixture) {
  for (const char* name : {"Alpha", "Beta", "Gamma"})
    BOOST_REQUIRE(
        send("POST", "/api/v1/teams", std::string(R"({"name": ")") + name + "\"}").status == 201);
  auto first = json(read("/api/v1/teams"));
  BOOST_TEST(first.int64("total") == 3);
  BOOST_TEST(first.int64("page") == 1);
  BOOST_TEST(first.int64("per_page") == 50);
  BOOST_TEST(first.object_array("data").size() == 3u);

  auto second = json(read("/api/v1/teams?page=2&per_page=2"));
  BOOST_TEST(second.int64("total") == 3);
  BOOST_TEST(second.int64("page") == 2);
  BOOST_TEST(second.int64("per_page") == 2);
  BOOST_TEST(second.object_array("data").size() == 1u);
  auto beyond = json(read("/api/v1/teams?page=9&per_page=2"));
  BOOST_TEST(beyond.object_array("data").empty());
  BOOST_TEST(beyond.int64("total") == 3);
}

BOOST_FIXTURE_TEST_CASE(bad_paging_parameters_are_400, rest_fixture) {
  for (const char* q : {"?page=0", "?per_page=0", "?page=x", "?per_page=-5"}) {
    auto r = send("GET", std::string("/api/v1/certificates") + q);
    BOOST_TEST(r.status == 400, q);
  }
}

BOOST_FIXTURE_TEST_CASE(certificates_are_filtered_and_a_missing_one_is_404, rest_fixture) {
  create_certificate("mc-1");
  create_certificate("mc-2");
  issue("mc-2");
  auto active = json(read("/api/v1/certificates?status=Active"));
  BOOST_TEST(active.int64("total") == 1);
  BOOST_TEST(active.object_array("data").at(0).str("id") == "mc-2");
  BOOST_TEST(json(read("/api/v1/certificates?owner_id=o-1")).int64("total") == 2);
  BOOST_TEST(json(read("/api/v1/certificates?owner_id=o-2")).int64("total") == 0);

  auto missing = send("GET", "/api/v1/certificates/mc-nope");
  BOOST_TEST(missing.status == 404);
  const auto err = json(missing);
  BOOST_TEST(err.str("error") == "certificate mc-nope not found");
  BOOST_TEST(!err.str("request_id").empty());
  BOOST_TEST(send("GET", "/api/v1/jobs/job-nope").status == 404);
  BOOST_TEST(send("GET", "/api/v1/owners/owner-nope").status == 404);
  BOOST_TEST(send("GET", "/api/v1/audit/999").status == 404);
}

BOOST_FIXTURE_TEST_CASE(versions_and_pem_export_need_an_issued_version, rest_fixture) {
  create_certificate("mc-1");
  BOOST_TEST(read("/api/v1/certificates/mc-1/export/pem").status == 404);
  BOOST_TEST(json(read("/api/v1/certificates/mc-1/versions")).int64("total") == 0);
  BOOST_TEST(send("GET", "/api/v1/certificates/mc-nope/versions").status == 404);
  issue("mc-1");
  auto pem = read("/api/v1/certificates/mc-1/export/pem");
  BOOST_REQUIRE(pem.status == 200);
  BOOST_TEST(json(pem).str("cert_pem").find("BEGIN CERTIFICATE") != std::string::npos);
  BOOST_TEST(json(read("/api/v1/certificates/mc-1/versions")).int64("total") == 1);
}

BOOST_FIXTURE_TEST_CASE(the_audit_trail_lists_what_the_api_did, rest_fixture) {
  create_certificate("mc-1");
  auto audit = json(read("/api/v1/audit?resource_id=mc-1"));
  BOOST_TEST(audit.int64("total") >= 1);
  BOOST_TEST(send("GET", "/api/v1/audit?from=yesterday").status == 400);
}

BOOST_FIXTURE_TEST_CASE(a_malformed_wait_for_position_header_is_400, rest_fixture) {
  auto r = send("GET", "/api/v1/teams", "", {{"X-Certctl-Wait-For-Position", "not-a-number"}});
  BOOST_TEST(r.status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
