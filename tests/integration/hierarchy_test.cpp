// Tree mode and bulk revocation end to end against the built server: intermediates created,
// listed and retired over the API, a leaf issued through root -> int1 -> int2 and checked by
// `openssl verify` with the root as the only trust anchor, constraint violations refused with
// clear errors, and POST /api/v1/certificates/bulk-revoke.
#define BOOST_TEST_MODULE integration_hierarchy
#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::int64_t num(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : -1;
}

void expect_error(const api_response& r, int status, const std::string& part = "") {
  BOOST_TEST(r.status == status, r.describe());
  BOOST_TEST(contains(str(r.json(), "error"), part), r.body);
}

std::string create_ca(api& client, const std::string& body) {
  auto r = client.post("/api/v1/issuers/iss-local/intermediates", body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  BOOST_TEST(r.position() > 0);
  return str(r.json(), "id");
}

/// A certificate through `issuer_id`, created and left to the server's issuance workers.
std::string create_certificate(api& client, const std::string& cn, const std::string& issuer_id) {
  std::string body = certificate_body("cert " + cn, cn, {});
  body.replace(body.find("\"iss-local\""), 11, "\"" + issuer_id + "\"");
  body.replace(body.find("\"sans\":[]"), 9, "\"sans\":[\"" + cn + "\"]");
  auto r = client.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return str(r.json(), "id");
}

std::string latest_chain(api& client, const std::string& id) {
  auto r = client.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  BOOST_REQUIRE(doc["data"].Size() >= 1);
  return str(doc["data"][0], "pem_chain");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hierarchy)

BOOST_AUTO_TEST_CASE(three_levels_verify_and_constraints_are_enforced) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);

  const std::string int1 = create_ca(admin, R"({"name":"Policy CA","parent_ca_id":"iss-local",
      "path_len_constraint":1,"name_constraints":[{"type":"dns","permitted":["example.com"],
      "excluded":["secret.example.com"]}],"metadata":{"tier":"policy"}})");
  const std::string int2 = create_ca(admin, (R"({"name":"Shop CA","parent_ca_id":")" + int1 +
                                             R"(","subject":{"common_name":"Shop Issuing CA"},
      "name_constraints":[{"permitted":["shop.example.com"]}]})"));

  // RFC 5280 refusals, each with a message that names the rule.
  expect_error(admin.post("/api/v1/issuers/iss-local/intermediates",
                          R"({"name":"bad","parent_ca_id":")" + int1 +
                              R"(","name_constraints":[{"permitted":["example.org"]}]})"),
               400, "\"example.org\" is not within the parent's permitted subtrees");
  expect_error(admin.post("/api/v1/issuers/iss-local/intermediates",
                          R"({"name":"deep","parent_ca_id":")" + int2 + R"("})"),
               400, "pathLenConstraint 0");
  expect_error(
      admin.post("/api/v1/issuers/iss-local/intermediates",
                 R"({"name":"x","parent_ca_id":")" + int1 + R"(","path_len_constraint":1})"),
      400, "must be less than the parent's 1");
  expect_error(admin.post("/api/v1/issuers/iss-local/intermediates",
                          R"({"name":"x","parent_ca_id":"ica-nope"})"),
               404, "not found");
  expect_error(admin.post("/api/v1/issuers/iss-local/intermediates",
                          R"({"name":"r","root_cert_pem":"x","key_driver_id":"k"})"),
               400, "operator-supplied roots not supported here");
  expect_error(admin.post("/api/v1/issuers/iss-nope/intermediates",
                          R"({"name":"x","parent_ca_id":"iss-nope"})"),
               404);
  api operator_client(server, operator_key);
  expect_error(operator_client.get("/api/v1/issuers/iss-local/intermediates"), 403);

  // A leaf through int2: an issuer of type GenericCA whose config names the intermediate.
  auto issuer = admin.post("/api/v1/issuers", R"({"name":"Shop","type":"GenericCA",
      "config":{"intermediate_id":")" + int2 + R"("}})");
  BOOST_REQUIRE_MESSAGE(issuer.status == 201, issuer.describe());
  const std::string issuer_id = str(issuer.json(), "id");
  const std::string leaf_id = create_certificate(admin, "www.shop.example.com", issuer_id);
  wait_for_certificate(admin, leaf_id, {"Active"});
  const std::string chain = latest_chain(admin, leaf_id);
  const std::string end = "-----END CERTIFICATE-----\n";
  const size_t leaf_end = chain.find(end) + end.size();
  auto root = admin.get("/api/v1/intermediates/iss-local");
  BOOST_REQUIRE_MESSAGE(root.status == 200, root.describe());
  write_file(dir.path + "/root.pem", str(root.json(), "certificate_pem"));
  write_file(dir.path + "/leaf.pem", chain.substr(0, leaf_end));
  write_file(dir.path + "/chain.pem", chain.substr(leaf_end));
  auto verified =
      run_shell("openssl verify -CAfile " + shell_quote(dir.path + "/root.pem") + " -untrusted " +
                shell_quote(dir.path + "/chain.pem") + " " + shell_quote(dir.path + "/leaf.pem"));
  BOOST_TEST(verified.exit_code == 0, verified.out);
  BOOST_TEST(contains(verified.out, "leaf.pem: OK"), verified.out);

  // A name outside int2's subtree is refused at issuance; the certificate fails.
  const std::string outside = create_certificate(admin, "www.example.org", issuer_id);
  auto failed = wait_for_certificate(admin, outside, {"Failed"});
  BOOST_TEST(str(failed, "status") == "Failed");
  auto jobs = admin.get("/api/v1/jobs?certificate_id=" + outside);
  BOOST_TEST(contains(jobs.body, "outside the permitted subtrees"), jobs.body);

  // The flat list: the root first (parent_ca_id null), then by created_at.
  auto list = admin.get("/api/v1/issuers/iss-local/intermediates", issuer.position());
  BOOST_REQUIRE_MESSAGE(list.status == 200, list.describe());
  auto doc = list.json();
  BOOST_REQUIRE_EQUAL(doc["data"].Size(), 3u);
  BOOST_TEST(str(doc["data"][0], "id") == "iss-local");
  BOOST_TEST(doc["data"][0]["parent_ca_id"].IsNull());
  BOOST_TEST(str(doc["data"][1], "id") == int1);
  BOOST_TEST(str(doc["data"][2], "parent_ca_id") == int1);
  BOOST_TEST(num(doc["data"][2], "path_len_constraint") == 0);
  BOOST_TEST(!contains(list.body, "PRIVATE KEY"));

  // Two-phase retire, drain first.
  auto retiring = admin.post("/api/v1/intermediates/" + int1 + "/retire", R"({"note":"rotate"})");
  BOOST_REQUIRE_MESSAGE(retiring.status == 200, retiring.describe());
  BOOST_TEST(str(retiring.json(), "status") == "retiring");
  expect_error(admin.post("/api/v1/intermediates/" + int1 + "/retire", R"({"confirm":true})"), 409,
               int2);
  expect_error(admin.post("/api/v1/issuers/iss-local/intermediates",
                          R"({"name":"late","parent_ca_id":")" + int1 + R"("})"),
               409, "retiring");
  BOOST_TEST(admin.post("/api/v1/intermediates/" + int2 + "/retire", "{}").status == 200);
  auto retired2 = admin.post("/api/v1/intermediates/" + int2 + "/retire", R"({"confirm":true})");
  BOOST_TEST(str(retired2.json(), "status") == "retired", retired2.describe());
  auto retired1 = admin.post("/api/v1/intermediates/" + int1 + "/retire", R"({"confirm":true})");
  BOOST_REQUIRE_MESSAGE(retired1.status == 200, retired1.describe());
  auto one = admin.get("/api/v1/intermediates/" + int1, retired1.position());
  BOOST_TEST(str(one.json(), "status") == "retired", one.describe());
  expect_error(admin.get("/api/v1/intermediates/ica-nope"), 404);

  // A retired intermediate signs nothing: issuance through it fails, never falls back.
  const std::string after = create_certificate(admin, "api.shop.example.com", issuer_id);
  BOOST_TEST(str(wait_for_certificate(admin, after, {"Failed"}), "status") == "Failed");
}

BOOST_AUTO_TEST_CASE(bulk_revoke_by_ids_and_by_filter) {
  temp_dir dir;
  server_process server(dir.path + "/data");
  api admin(server);
  const std::string a = create_certificate(admin, "a.example.com", "iss-local");
  const std::string b = create_certificate(admin, "b.example.com", "iss-local");
  wait_for_certificate(admin, a, {"Active"});
  wait_for_certificate(admin, b, {"Active"});

  expect_error(
      admin.post("/api/v1/certificates/bulk-revoke", R"({"certificate_ids":[")" + a + R"("]})"),
      400, "reason");
  expect_error(admin.post("/api/v1/certificates/bulk-revoke", R"({"reason":"stolen",
      "certificate_ids":[")" + a + R"("]})"),
               400, "unknown revocation reason");
  expect_error(admin.post("/api/v1/certificates/bulk-revoke", R"({"reason":"keyCompromise"})"), 400,
               "at least one");
  std::string many = R"({"reason":"superseded","certificate_ids":[)";
  for (int i = 0; i < 1001; ++i) many += (i ? ",\"mc-" : "\"mc-") + std::to_string(i) + "\"";
  expect_error(admin.post("/api/v1/certificates/bulk-revoke", many + "]}"), 400, "at most 1000");
  api operator_client(server, operator_key);
  expect_error(
      operator_client.post("/api/v1/certificates/bulk-revoke",
                           R"({"reason":"keyCompromise","certificate_ids":[")" + a + R"("]})"),
      403);

  auto r = admin.post("/api/v1/certificates/bulk-revoke",
                      R"({"reason":"keyCompromise","certificate_ids":[")" + a + R"(",")" + b +
                          R"(","mc-missing"]})");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  BOOST_TEST(num(doc, "total_matched") == 3);
  BOOST_TEST(num(doc, "total_revoked") == 2);
  BOOST_TEST(num(doc, "total_failed") == 1);
  BOOST_TEST(str(doc["errors"][0], "certificate_id") == "mc-missing");
  BOOST_REQUIRE_EQUAL(doc["results"].Size(), 3u);
  BOOST_TEST(str(doc["results"][0], "status") == "revoked");
  BOOST_TEST(str(doc["results"][2], "status") == "failed");
  BOOST_TEST(r.position() > 0);
  auto cert = admin.get("/api/v1/certificates/" + a, r.position());
  BOOST_TEST(str(cert.json(), "status") == "Revoked");
  BOOST_TEST(str(cert.json(), "revocation_reason") == "keyCompromise");

  // Again: both are skipped now, nothing new is written.
  auto again =
      admin.post("/api/v1/certificates/bulk-revoke",
                 R"({"reason":"keyCompromise","certificate_ids":[")" + a + R"(",")" + b + R"("]})");
  BOOST_TEST(num(again.json(), "total_skipped") == 2, again.describe());
  BOOST_TEST(num(again.json(), "total_revoked") == 0);

  // By filter, read from the read model once it has caught up.
  const std::string c = create_certificate(admin, "c.example.com", "iss-local");
  wait_for_certificate(admin, c, {"Active"});
  auto by_issuer = admin.post("/api/v1/certificates/bulk-revoke",
                              R"({"reason":"cessationOfOperation","issuer_id":"iss-local"})");
  BOOST_REQUIRE_MESSAGE(by_issuer.status == 200, by_issuer.describe());
  BOOST_TEST(num(by_issuer.json(), "total_matched") == 3);
  BOOST_TEST(num(by_issuer.json(), "total_revoked") == 1);
  BOOST_TEST(num(by_issuer.json(), "total_skipped") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
