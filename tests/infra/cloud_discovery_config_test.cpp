// Cloud discovery settings (infra/cloud_discovery_config): off by default, the reference's
// variables read, an enabled source without its required variables refused by name.
#define BOOST_TEST_MODULE infra_cloud_discovery_config
#include <boost/test/unit_test.hpp>

#include <map>

#include "infra/cloud_discovery_config.hpp"

using namespace certctl;

namespace {

auto env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(off_by_default_with_the_reference_defaults) {
  auto c = infra::load_cloud_discovery_config(env({}));
  BOOST_REQUIRE(c.ok());
  BOOST_TEST(!c->enabled);
  BOOST_TEST(c->interval_seconds == 6 * 3600);
  BOOST_TEST(c->aws_tag_filter == "type=certificate");
  // A source switched on while the master switch is off needs nothing.
  BOOST_TEST(
      infra::load_cloud_discovery_config(env({{"CERTCTL_AWS_SM_DISCOVERY_ENABLED", "true"}})).ok());
}

BOOST_AUTO_TEST_CASE(reads_each_source_and_refuses_missing_settings_by_name) {
  std::map<std::string, std::string> vars = {
      {"CERTCTL_CLOUD_DISCOVERY_ENABLED", "true"},
      {"CERTCTL_CLOUD_DISCOVERY_INTERVAL", "30m"},
      {"CERTCTL_AWS_SM_DISCOVERY_ENABLED", "true"},
      {"CERTCTL_AWS_SM_REGION", "eu-west-1"},
      {"CERTCTL_AWS_SM_TAG_FILTER", "kind=tls"},
      {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
      {"AWS_SECRET_ACCESS_KEY", "secret"},
      {"CERTCTL_GCP_SM_DISCOVERY_ENABLED", "1"},
      {"CERTCTL_GCP_SM_PROJECT", "p"},
      {"CERTCTL_GCP_SM_CREDENTIALS", "/etc/certctl/gcp.json"}};
  auto c = infra::load_cloud_discovery_config(env(vars));
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error()));
  BOOST_TEST(c->interval_seconds == 1800);
  BOOST_TEST(c->aws_region == "eu-west-1");
  BOOST_TEST(c->aws_tag_filter == "kind=tls");
  BOOST_TEST(c->gcp_enabled);
  BOOST_TEST(!c->azure_enabled);

  vars.erase("AWS_SECRET_ACCESS_KEY");
  auto missing = infra::load_cloud_discovery_config(env(vars));
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().find("AWS_SECRET_ACCESS_KEY") != std::string::npos);
  vars.erase("AWS_ACCESS_KEY_ID");  // neither: the credential chain (files, instance role)
  BOOST_TEST(infra::load_cloud_discovery_config(env(vars)).ok());
  vars["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";

  vars["AWS_SECRET_ACCESS_KEY"] = "secret";
  vars["CERTCTL_AZURE_KV_DISCOVERY_ENABLED"] = "true";
  auto azure = infra::load_cloud_discovery_config(env(vars));
  BOOST_REQUIRE(!azure.ok());
  BOOST_TEST(azure.error().find("CERTCTL_AZURE_KV_VAULT_URL") != std::string::npos);

  vars["CERTCTL_CLOUD_DISCOVERY_INTERVAL"] = "10s";
  BOOST_TEST(infra::load_cloud_discovery_config(env(vars)).error().find(
                 "CERTCTL_CLOUD_DISCOVERY_INTERVAL") != std::string::npos);
  vars["CERTCTL_CLOUD_DISCOVERY_ENABLED"] = "yes";
  BOOST_TEST(!infra::load_cloud_discovery_config(env(vars)).ok());
}
