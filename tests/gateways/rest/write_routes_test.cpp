// The write routes over an in-process runtime: resources and certificates are created,
// changed and removed through the API, each error answers the status of the one table, and a
// refused request (bad body, too deep a body) records nothing.
#include <boost/test/unit_test.hpp>

#include "tests/gateways/rest/rest_fixture.hpp"

using namespace certctl;
using certctl::test::rest_fixture;

namespace {

std::string error_of(const gateways::http::response& r) {
  return rest_fixture::json(r).str("error");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(write_routes)

BOOST_FIXTURE_TEST_CASE(a_team_is_created_updated_and_deleted_and_reads_follow_each_write,
                        rest_fixture) {
  auto created = send("POST", "/api/v1/teams", R"({"name": "Platform"})");
  BOOST_REQUIRE(created.status == 201);
  const auto team = json(created);
  const std::string id = team.str("id");
  BOOST_TEST(id.rfind("team-", 0) == 0u, id);
  BOOST_TEST(team.str("name") == "Platform");
  BOOST_TEST(header(created, "X-Certctl-Position").has_value());
  BOOST_TEST(json(read_after(created, "/api/v1/teams/" + id)).str("name") == "Platform");

  auto updated = send("PUT", "/api/v1/teams/" + id, R"({"description": "runs the edge"})");
  BOOST_REQUIRE(updated.status == 200);
  BOOST_TEST(json(updated).str("description") == "runs the edge");
  BOOST_TEST(json(read_after(updated, "/api/v1/teams/" + id)).str("description") ==
             "runs the edge");

  auto deleted = send("DELETE", "/api/v1/teams/" + id);
  BOOST_TEST(deleted.status == 204);
  BOOST_TEST(deleted.body.empty());
  BOOST_TEST(read_after(deleted, "/api/v1/teams/" + id).status == 404);
}

BOOST_FIXTURE_TEST_CASE(resource_errors_answer_400_404_and_409_and_record_nothing, rest_fixture) {
  auto missing = send("POST", "/api/v1/owners", R"({"email": "ops@example.com"})");
  BOOST_TEST(missing.status == 400);
  BOOST_TEST(error_of(missing) == "field 'name' is required");
  BOOST_TEST(send("POST", "/api/v1/owners", R"({"name": "Ops", "email": "no-at-sign"})").status ==
             400);
  BOOST_TEST(head() == 0);

  auto unknown = send("PUT", "/api/v1/owners/owner-nope", R"({"name": "x"})");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(send("DELETE", "/api/v1/profiles/prof-nope").status == 404);

  BOOST_TEST(send("POST", "/api/v1/owners", R"({"id": "owner-a", "name": "A"})").status == 201);
  auto again = send("POST", "/api/v1/owners", R"({"id": "owner-a", "name": "A"})");
  BOOST_TEST(again.status == 409);
  BOOST_TEST(head() == 1);
}

BOOST_FIXTURE_TEST_CASE(a_body_that_is_not_a_json_object_is_400, rest_fixture) {
  for (const char* body : {"[1, 2]", "{\"name\": ", "\"text\""}) {
    auto r = send("POST", "/api/v1/teams", body);
    BOOST_TEST(r.status == 400, body);
    BOOST_TEST(error_of(r).rfind("request body is not a JSON object: ", 0) == 0u, error_of(r));
  }
  BOOST_TEST(head() == 0);
}

// The crash a new user found: 100,000 '[' took the server down with SIGSEGV.
BOOST_FIXTURE_TEST_CASE(a_too_deeply_nested_body_is_400_on_every_write_and_records_nothing,
                        rest_fixture) {
  create_certificate("mc-1");
  const std::int64_t before = head();
  const std::string message = "request body nests arrays/objects deeper than 64 levels";
  const std::string huge = std::string(100000, '[') + std::string(100000, ']');
  const std::string one_past =
      "{\"name\": \"x\", \"metadata\": " + std::string(64, '[') + std::string(64, ']') + "}";
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/api/v1/certificates"},
           {"PUT", "/api/v1/certificates/mc-1"},
           {"POST", "/api/v1/certificates/mc-1/revoke"},
           {"POST", "/api/v1/certificates/mc-1/export/pkcs12"},
           {"POST", "/api/v1/teams"},
           {"POST", "/api/v1/agents"},
           {"POST", "/api/v1/certificates/bulk-revoke"}}) {
    for (const auto& body : {huge, one_past}) {
      auto r = send(method, path, body);
      BOOST_TEST(r.status == 400, method << " " << path);
      BOOST_TEST(error_of(r) == message, method << " " << path << ": " << error_of(r));
    }
  }
  BOOST_TEST(head() == before);
}

BOOST_FIXTURE_TEST_CASE(creating_a_certificate_opens_its_issuance_job, rest_fixture) {
  auto created = create_certificate("mc-1");
  BOOST_TEST(json(created).str("status") == "Pending");
  auto jobs = read_after(created, "/api/v1/jobs?certificate_id=mc-1");
  BOOST_REQUIRE(jobs.status == 200);
  const auto page = json(jobs);
  BOOST_TEST(page.int64("total") == 1);
  const auto job = page.object_array("data").at(0);
  BOOST_TEST(job.str("type") == "Issuance");
  BOOST_TEST(job.str("certificate_id") == "mc-1");

  auto invalid = send("POST", "/api/v1/certificates", R"({"id": "mc-2", "name": "no cn"})");
  BOOST_TEST(invalid.status == 400);
  BOOST_TEST(send("GET", "/api/v1/certificates/mc-2").status == 404);
  BOOST_TEST(send("PUT", "/api/v1/certificates/mc-nope", R"({"name": "x"})").status == 404);
}

BOOST_FIXTURE_TEST_CASE(renewal_is_202_for_an_issued_certificate_and_409_or_404_otherwise,
                        rest_fixture) {
  create_certificate("mc-1");
  auto pending = send("POST", "/api/v1/certificates/mc-1/renew");
  BOOST_TEST(pending.status == 409);  // its first issuance is still running
  BOOST_TEST(send("POST", "/api/v1/certificates/mc-nope/renew").status == 404);

  issue("mc-1");
  auto renewed = send("POST", "/api/v1/certificates/mc-1/renew");
  BOOST_REQUIRE(renewed.status == 202);
  BOOST_TEST(json(renewed).str("status") == "renewal_triggered");
  auto cert = read_after(renewed, "/api/v1/certificates/mc-1");
  BOOST_TEST(json(cert).str("status") == "RenewalInProgress");
  BOOST_TEST(send("POST", "/api/v1/certificates/mc-1/renew").status == 409);
}

BOOST_FIXTURE_TEST_CASE(revocation_checks_reason_state_and_existence, rest_fixture) {
  create_certificate("mc-1");
  auto unissued =
      send("POST", "/api/v1/certificates/mc-1/revoke", R"({"reason": "keyCompromise"})");
  BOOST_TEST(unissued.status == 409);
  BOOST_TEST(error_of(unissued) == "certificate mc-1 has no issued version to revoke");
  BOOST_TEST(send("POST", "/api/v1/certificates/mc-nope/revoke").status == 404);

  issue("mc-1");
  auto bad = send("POST", "/api/v1/certificates/mc-1/revoke", R"({"reason": "boredom"})");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(error_of(bad) == "unknown revocation reason 'boredom'");
  auto revoked = send("POST", "/api/v1/certificates/mc-1/revoke", R"({"reason": "keyCompromise"})");
  BOOST_REQUIRE(revoked.status == 200);
  BOOST_TEST(json(revoked).str("status") == "revoked");
  auto cert = json(read_after(revoked, "/api/v1/certificates/mc-1"));
  BOOST_TEST(cert.str("status") == "Revoked");
  BOOST_TEST(cert.str("revocation_reason") == "keyCompromise");
  BOOST_TEST(send("POST", "/api/v1/certificates/mc-1/revoke").status == 409);
}

BOOST_FIXTURE_TEST_CASE(a_deleted_certificate_is_archived_and_refuses_changes, rest_fixture) {
  create_certificate("mc-1");
  auto deleted = send("DELETE", "/api/v1/certificates/mc-1");
  BOOST_TEST(deleted.status == 204);
  BOOST_TEST(json(read("/api/v1/certificates/mc-1")).str("status") == "Archived");
  auto update = send("PUT", "/api/v1/certificates/mc-1", R"({"name": "renamed"})");
  BOOST_TEST(update.status == 409);
  BOOST_TEST(error_of(update) == "certificate mc-1 is archived");
  BOOST_TEST(send("DELETE", "/api/v1/certificates/mc-nope").status == 404);
}

BOOST_FIXTURE_TEST_CASE(an_idempotency_key_makes_a_retried_create_one_effect, rest_fixture) {
  const gateways::http::header_map key{{"Idempotency-Key", "k-1"}};
  auto first = send("POST", "/api/v1/teams", R"({"id": "team-a", "name": "A"})", key);
  BOOST_REQUIRE(first.status == 201);
  const std::int64_t after_first = head();
  auto retried = send("POST", "/api/v1/teams", R"({"id": "team-a", "name": "A"})", key);
  BOOST_TEST(retried.status == 201);
  BOOST_TEST(json(retried).str("id") == "team-a");
  BOOST_TEST(head() == after_first);
}

BOOST_AUTO_TEST_SUITE_END()
