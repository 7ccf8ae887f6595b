// Cloud discovery into the one pipeline (issue 16 item 3): the cloud discovery loop lists an
// AWS Secrets Manager and an Azure Key Vault stand-in (tests/connectors/discovery/cloud_mocks)
// and a certificate held in both shows up once in /api/v1/discovered-certificates, with both
// cloud locations, however many times the loop runs; a failing source is recorded as a scan
// with its error and does not stop the other one.
#include <boost/test/unit_test.hpp>

#include "actors/schedulers/cloud_discovery.hpp"
#include "connectors/discovery/aws_sm/aws_secrets_manager.hpp"
#include "connectors/discovery/azure_kv/azure_key_vault.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "tests/connectors/discovery/cloud_mocks.hpp"
#include "tests/gateways/rest/agent_fixture.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
using certctl::test::deployment_fixture;
namespace t = certctl::testing;

namespace {

// This binary's loopback ports (56660-56661).
constexpr int aws_port = 56660;
constexpr int azure_port = 56661;

std::string signed_by(const t::mock_ca_material& ca, const std::string& cn) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn, {{cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  return t::mock_sign(ca, made->csr_pem, 86400, {cn});
}

std::string der_of(const std::string& pem) {
  auto der = crypto::certificate_pem_to_der(pem);
  BOOST_REQUIRE(der.ok());
  return std::string(der->begin(), der->end());
}

connectors::builtin_context loopback() {
  connectors::builtin_context c;
  c.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cloud_discovery)

BOOST_FIXTURE_TEST_CASE(a_certificate_in_two_cloud_stores_is_discovered_once, deployment_fixture) {
  certctl::test::temp_dir tmp;
  const auto ca = t::make_mock_ca(tmp.path(), "cloud");
  const std::string shared = signed_by(ca, "shared.example.test");
  const std::string only_azure = signed_by(ca, "vault-only.example.test");
  t::mock_aws_sm aws(ca, aws_port);
  t::mock_azure_kv azure(ca, azure_port);
  {
    std::lock_guard<std::mutex> lock(aws.state().mutex);
    aws.state().secrets = {{"prod/shared-tls", {{"type", "certificate"}}, shared, ""}};
  }
  {
    std::lock_guard<std::mutex> lock(azure.state().mutex);
    azure.state().certificates = {{"shared", der_of(shared)}, {"vault-only", der_of(only_azure)}};
  }
  events::json_object aws_config;
  aws_config.set("region", "us-east-1")
      .set("access_key_id", aws.state().access_key_id)
      .set("secret_access_key", aws.state().secret_access_key)
      .set("endpoint_url", aws.url())
      .set("ca_bundle_path", ca.root_path);
  events::json_object azure_config;
  azure_config.set("vault_url", azure.url())
      .set("authority_url", azure.url())
      .set("tenant_id", azure.state().tenant_id)
      .set("client_id", azure.state().client_id)
      .set("client_secret", azure.state().client_secret)
      .set("ca_bundle_path", ca.root_path);
  auto aws_source = connectors::aws_sm::make_aws_sm_source({"aws", aws_config}, loopback());
  auto azure_source =
      connectors::azure_kv::make_azure_kv_source({"azure", azure_config}, loopback());
  BOOST_REQUIRE(aws_source.ok());
  BOOST_REQUIRE(azure_source.ok());
  schedulers::cloud_discovery_loop loop(
      runtime, {{"aws-secrets-manager", connectors::aws_sm::sentinel_source_id, *aws_source},
                {"azure-key-vault", connectors::azure_kv::sentinel_source_id, *azure_source}});

  for (int run = 0; run < 2; ++run) {
    auto report = loop.tick(1790000000LL * 1000000 + run);
    BOOST_REQUIRE(report.actions.size() == 2u);
    BOOST_TEST(report.actions[0].ok, report.actions[0].detail);
    BOOST_TEST(report.actions[1].ok, report.actions[1].detail);
    BOOST_TEST(report.errors.empty());
  }

  auto list = json(read("/api/v1/discovered-certificates"));
  BOOST_TEST(list.int64("total") == 2);
  std::string shared_id;
  for (const auto& d : list.object_array("data"))
    if (d.str("common_name") == "shared.example.test") shared_id = d.str("id");
  BOOST_REQUIRE(!shared_id.empty());
  auto one = json(read("/api/v1/discovered-certificates/" + shared_id));
  const std::string locations = one.raw("locations");
  BOOST_TEST(one.object_array("locations").size() == 2u, locations);
  BOOST_TEST(locations.find("aws-sm://us-east-1/prod/shared-tls") != std::string::npos);
  BOOST_TEST(locations.find("azure-kv://shared/") != std::string::npos);
  // Each location names its source and sentinel id.
  BOOST_TEST(locations.find("\"source\":\"aws-secrets-manager\"") != std::string::npos, locations);
  BOOST_TEST(locations.find("\"source_id\":\"cloud-aws-sm\"") != std::string::npos);
  BOOST_TEST(locations.find("\"source_id\":\"cloud-azure-kv\"") != std::string::npos);
  BOOST_TEST(json(read("/api/v1/discovery-scans")).int64("total") == 4);  // 2 runs x 2 sources

  // AWS refuses (wrong key): its scan records the error, Azure is still read.
  {
    std::lock_guard<std::mutex> lock(aws.state().mutex);
    aws.state().secret_access_key = "rotated-away";
  }
  auto report = loop.tick(1790000000LL * 1000000 + 5);
  BOOST_REQUIRE(report.actions.size() == 2u);
  BOOST_TEST(!report.actions[0].ok);
  BOOST_TEST(report.actions[1].ok);
  BOOST_REQUIRE(report.errors.size() == 1u);
  BOOST_TEST(report.errors[0].find("aws-secrets-manager") != std::string::npos);
  BOOST_TEST(json(read("/api/v1/discovery-scans")).int64("total") == 6);
  bool aws_error_recorded = false;
  for (const auto& scan : json(read("/api/v1/discovery-scans")).object_array("data"))
    if (scan.str("source_id") == "cloud-aws-sm" &&
        scan.raw("errors").find("InvalidSignature") != std::string::npos)
      aws_error_recorded = true;
  BOOST_TEST(aws_error_recorded);
  BOOST_TEST(json(read("/api/v1/discovered-certificates")).int64("total") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
