// The discovery pipeline through its REST routes (issue 12): an agent's report is parsed on
// the server, one certificate found in two places is one entity with two locations, another
// source reuses the same entity, and the triage routes move it to Managed or Dismissed.
#include <boost/test/unit_test.hpp>

#include "actors/workflows/discovery.hpp"
#include "events/json.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/gateways/rest/agent_fixture.hpp"

using namespace certctl;
using certctl::test::deployment_fixture;

namespace {

std::string self_signed(const std::string& cn) {
  auto key = crypto::generate_key();
  BOOST_REQUIRE(key.ok());
  crypto::certificate_template t;
  t.public_key_der = key->public_key.spki_der;
  t.subject.common_name = cn;
  t.sans.dns = {cn};
  t.not_before = 1790000000;
  t.not_after = 1790000000 + 86400 * 30;
  auto pem = crypto::self_sign(key->pem, t);
  BOOST_REQUIRE_MESSAGE(pem.ok(), (pem.ok() ? std::string() : pem.error().message));
  return *pem;
}

std::string scan_report(const std::string& agent,
                        const std::vector<std::pair<std::string, std::string>>& items,
                        const std::vector<std::string>& errors = {}) {
  std::string certs;
  for (const auto& [path, pem] : items) {
    events::json_object c;
    c.set("pem_data", pem).set("source_path", path).set("source_format", "PEM");
    certs += (certs.empty() ? "" : ",") + c.dump();
  }
  events::json_object body;
  body.set("agent_id", agent)
      .set("directories", std::vector<std::string>{"/etc/ssl", "/srv/tls"})
      .set_raw("certificates", "[" + certs + "]")
      .set("errors", errors)
      .set("scan_duration_ms", std::int64_t{12});
  return body.dump();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(discovery_routes)

BOOST_FIXTURE_TEST_CASE(one_certificate_found_twice_is_one_discovery_with_two_locations,
                        deployment_fixture) {
  agent("a-1");
  const std::string shared = self_signed("shared.example.com");
  const std::string other = self_signed("other.example.com");
  auto posted = send("POST", "/api/v1/agents/a-1/discoveries",
                     scan_report("a-1",
                                 {{"/etc/ssl/shared.pem", shared},
                                  {"/srv/tls/copy.pem", shared},
                                  {"/srv/tls/other.pem", other},
                                  {"/srv/tls/bad.pem", "-----BEGIN CERTIFICATE-----\nMA==\n"}},
                                 {"/etc/ssl/unreadable.pem: permission denied"}));
  BOOST_REQUIRE_MESSAGE(posted.status == 202, posted.body);
  auto scan = json(posted);
  BOOST_TEST(scan.str("agent_id") == "a-1");
  BOOST_TEST(scan.int64("certificates_found") == 3);
  BOOST_TEST(scan.int64("certificates_new") == 2);
  BOOST_TEST(scan.int64("errors_count") == 2);  // the agent's own and the bad PEM
  BOOST_TEST(scan.int64("scan_duration_ms") == 12);

  auto list = json(read_after(posted, "/api/v1/discovered-certificates?agent_id=a-1"));
  BOOST_TEST(list.int64("total") == 2);
  std::string shared_id;
  for (const auto& d : list.object_array("data"))
    if (d.str("common_name") == "shared.example.com") shared_id = d.str("id");
  BOOST_REQUIRE(!shared_id.empty());
  auto one = json(read("/api/v1/discovered-certificates/" + shared_id));
  BOOST_TEST(one.object_array("locations").size() == 2u);
  BOOST_TEST(one.str("status") == "Unmanaged");
  BOOST_TEST(one.str("fingerprint_sha256").size() == 64u);
  BOOST_TEST(one.str("key_algorithm") == "ECDSA");
  BOOST_TEST(one.str("discovery_scan_id") == scan.str("id"));

  // The next scan of the same files adds no discovery; a network source joins the same one.
  auto again = send("POST", "/api/v1/agents/a-1/discoveries",
                    scan_report("a-1", {{"/etc/ssl/shared.pem", shared}}));
  BOOST_REQUIRE(again.status == 202);
  BOOST_TEST(json(again).int64("certificates_new") == 0);
  actors::discovery_report net;
  net.source = "network";
  net.source_id = "nst-1";
  net.items = {{"10.0.0.5:443", "DER", shared, {}}};
  auto via_network = actors::record_discovery(runtime, net);
  BOOST_REQUIRE_MESSAGE(via_network.ok, via_network.error);
  BOOST_TEST(via_network.scan.int64("certificates_new") == 0);
  one = json(read("/api/v1/discovered-certificates/" + shared_id));
  BOOST_TEST(one.object_array("locations").size() == 3u);
  BOOST_TEST(one.str("agent_id") == "a-1");  // who found it first

  auto scans = json(read("/api/v1/discovery-scans?agent_id=a-1"));
  BOOST_TEST(scans.int64("total") == 2);
  BOOST_TEST(json(read("/api/v1/discovery-scans")).int64("total") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_report_that_is_malformed_or_from_a_retired_agent_records_nothing,
                        deployment_fixture) {
  agent("a-1");
  agent("a-2");
  const auto before = head();
  BOOST_TEST(send("POST", "/api/v1/agents/a-1/discoveries", scan_report("a-2", {})).status == 400);
  BOOST_TEST(send("POST", "/api/v1/agents/a-1/discoveries", R"({"certificates":{}})").status ==
             400);
  BOOST_TEST(
      send("POST", "/api/v1/agents/a-1/discoveries", R"({"certificates":[{"source_path":"/x"}]})")
          .status == 400);
  BOOST_TEST(send("POST", "/api/v1/agents/ghost/discoveries", scan_report("ghost", {})).status ==
             404);
  BOOST_TEST(head() == before);
  BOOST_REQUIRE(send("DELETE", "/api/v1/agents/a-2").status == 200);
  BOOST_TEST(send("POST", "/api/v1/agents/a-2/discoveries", scan_report("a-2", {})).status == 410);
}

BOOST_FIXTURE_TEST_CASE(triage_claims_and_dismisses_and_the_summary_counts_each_status,
                        deployment_fixture) {
  agent("a-1");
  create_certificate("mc-1");
  auto posted = send("POST", "/api/v1/agents/a-1/discoveries",
                     scan_report("a-1", {{"/a.pem", self_signed("a.example.com")},
                                         {"/b.pem", self_signed("b.example.com")},
                                         {"/c.pem", self_signed("c.example.com")}}));
  BOOST_REQUIRE(posted.status == 202);
  auto list = json(read_after(posted, "/api/v1/discovered-certificates")).object_array("data");
  BOOST_REQUIRE_EQUAL(list.size(), 3u);
  const std::string a = list[0].str("id"), b = list[1].str("id");

  BOOST_TEST(send("POST", "/api/v1/discovered-certificates/" + a + "/claim", "{}").status == 400);
  BOOST_TEST(send("POST", "/api/v1/discovered-certificates/" + a + "/claim",
                  R"({"managed_certificate_id":"mc-none"})")
                 .status == 400);
  auto claimed = send("POST", "/api/v1/discovered-certificates/" + a + "/claim",
                      R"({"managed_certificate_id":"mc-1"})");
  BOOST_REQUIRE_MESSAGE(claimed.status == 200, claimed.body);
  BOOST_TEST(json(claimed).str("status") == "Managed");
  auto dismissed = send("POST", "/api/v1/discovered-certificates/" + b + "/dismiss");
  BOOST_REQUIRE(dismissed.status == 200);
  BOOST_TEST(send("POST", "/api/v1/discovered-certificates/" + a + "/dismiss").status == 409);
  // A dismissed finding can still be claimed; dismissing twice changes nothing.
  BOOST_TEST(send("POST", "/api/v1/discovered-certificates/" + b + "/dismiss").status == 200);
  BOOST_TEST(send("POST", "/api/v1/discovered-certificates/dc-none/dismiss").status == 404);

  auto summary = json(read("/api/v1/discovery-summary"));
  BOOST_TEST(summary.int64("Managed") == 1);
  BOOST_TEST(summary.int64("Dismissed") == 1);
  BOOST_TEST(summary.int64("Unmanaged") == 1);
  BOOST_TEST(json(read("/api/v1/discovered-certificates?status=Dismissed")).int64("total") == 1);
  BOOST_TEST(json(read("/api/v1/discovered-certificates/" + a)).str("managed_certificate_id") ==
             "mc-1");
  BOOST_TEST(send("GET", "/api/v1/discovered-certificates?status=new").status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
