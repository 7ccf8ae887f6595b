// The three cloud secret-store discovery sources against local HTTPS servers that follow the
// vendors' documented APIs (cloud_mocks.hpp): what they send (SigV4 signature, client
// credentials, the service-account JWT, bearer tokens, filters, paging), what they find (the
// certificates, with the reference's source paths; non-certificate secrets as warnings), the
// refusals they report without leaking their secrets, and the outbound guard.
#define BOOST_TEST_MODULE connectors_cloud_discovery
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "connectors/builtin.hpp"
#include "connectors/discovery/aws_sm/aws_secrets_manager.hpp"
#include "connectors/discovery/azure_kv/azure_key_vault.hpp"
#include "connectors/discovery/gcp_sm/gcp_secret_manager.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/connectors/discovery/cloud_mocks.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
using certctl::test::temp_dir;
namespace t = certctl::testing;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, connector_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::connectors

namespace {

// This binary's loopback ports (56650-56652).
constexpr int aws_port = 56650;
constexpr int azure_port = 56651;
constexpr int gcp_port = 56652;

connectors::builtin_context loopback_context() {
  connectors::builtin_context c;
  c.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return c;
}

struct issued {
  std::string pem, der, fingerprint;
};

issued make_cert(const t::mock_ca_material& ca, const std::string& cn) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn, {{cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  issued out;
  out.pem = t::mock_sign(ca, made->csr_pem, 86400, {cn});
  auto der = crypto::certificate_pem_to_der(out.pem);
  BOOST_REQUIRE(der.ok());
  out.der.assign(der->begin(), der->end());
  auto info = crypto::parse_certificate(out.pem);
  BOOST_REQUIRE(info.ok());
  out.fingerprint = info->fingerprint_sha256_hex;
  return out;
}

std::vector<std::string> locations(const connectors::discovery_page& page) {
  std::vector<std::string> out;
  for (const auto& c : page.certificates) out.push_back(c.location);
  std::sort(out.begin(), out.end());
  return out;
}

const connectors::discovered_certificate* at(const connectors::discovery_page& page,
                                             const std::string& location) {
  for (const auto& c : page.certificates)
    if (c.location == location) return &c;
  return nullptr;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct fixture {
  temp_dir tmp;
  t::mock_ca_material ca = t::make_mock_ca(tmp.path(), "cloud");
  issued web = make_cert(ca, "web.example.test");
  issued api = make_cert(ca, "api.example.test");
  issued mail = make_cert(ca, "mail.example.test");
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cloud_discovery, fixture)

BOOST_AUTO_TEST_CASE(aws_finds_tagged_certificates_with_signed_requests) {
  t::mock_aws_sm aws(ca, aws_port);
  {
    std::lock_guard<std::mutex> lock(aws.state().mutex);
    const std::map<std::string, std::string> cert_tag = {{"type", "certificate"}};
    aws.state().secrets = {
        {"prod/web-tls", cert_tag, web.pem + api.pem, ""},  // leaf first, then a chain
        {"prod/api-der", cert_tag, "", api.der},            // SecretBinary
        {"prod/db-password", cert_tag, "hunter2", ""},      // tagged, but no certificate
        {"prod/untagged", {}, mail.pem, ""},                // not tagged: not listed
        {"prod/other-tag", {{"type", "config"}}, mail.pem, ""},
        {"dev/web-tls", cert_tag, mail.pem, ""},  // outside the name prefix below
    };
  }
  events::json_object config;
  config.set("region", "us-east-1")
      .set("access_key_id", "AKIDEXAMPLE")
      .set("secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
      .set("name_prefix", "prod/")
      .set("endpoint_url", aws.url())
      .set("ca_bundle_path", ca.root_path);
  auto source = connectors::aws_sm::make_aws_sm_source({"aws-1", config}, loopback_context());
  BOOST_REQUIRE(source.ok());
  auto page = (*source)->list();
  BOOST_REQUIRE_MESSAGE(page.ok(), (page.ok() ? std::string() : page.error().message));
  BOOST_TEST(aws.state().refused == 0, aws.state().last_error);
  BOOST_TEST(locations(*page) == (std::vector<std::string>{"aws-sm://us-east-1/prod/api-der",
                                                           "aws-sm://us-east-1/prod/web-tls"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(at(*page, "aws-sm://us-east-1/prod/web-tls"));
  BOOST_TEST(at(*page, "aws-sm://us-east-1/prod/web-tls")->fingerprint_sha256_hex ==
             web.fingerprint);
  BOOST_TEST(at(*page, "aws-sm://us-east-1/prod/web-tls")->common_name == "web.example.test");
  BOOST_TEST(at(*page, "aws-sm://us-east-1/prod/api-der")->fingerprint_sha256_hex ==
             api.fingerprint);
  BOOST_REQUIRE(page->warnings.size() == 1u);
  BOOST_TEST(contains(page->warnings[0], "aws-sm://us-east-1/prod/db-password"));
  BOOST_TEST(!contains(page->warnings[0], "hunter2"));
  // Two matching-filter pages of at most two (4 secrets pass tag-key/tag-value/name), one
  // GetSecretValue per secret that really carries type=certificate.
  BOOST_TEST(aws.state().list_calls == 2);
  BOOST_TEST(aws.state().get_calls == 3);
}

BOOST_AUTO_TEST_CASE(aws_wrong_key_is_refused_without_leaking_it) {
  t::mock_aws_sm aws(ca, aws_port);
  events::json_object config;
  config.set("region", "us-east-1")
      .set("access_key_id", "AKIDEXAMPLE")
      .set("secret_access_key", "not-the-right-secret-key")
      .set("endpoint_url", aws.url())
      .set("ca_bundle_path", ca.root_path);
  auto source = connectors::aws_sm::make_aws_sm_source({"aws-1", config}, loopback_context());
  BOOST_REQUIRE(source.ok());
  auto page = (*source)->list();
  BOOST_REQUIRE(!page.ok());
  BOOST_TEST(page.error().code == connectors::connector_errc::failed);
  BOOST_TEST(contains(page.error().message, "InvalidSignatureException"));
  BOOST_TEST(!contains(page.error().message, "not-the-right-secret-key"));
  BOOST_TEST(aws.state().last_error == "signature mismatch");

  // A region the service is not in: the credential scope names the wrong region.
  config.set("secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
      .set("region", "eu-west-1");
  auto elsewhere = connectors::aws_sm::make_aws_sm_source({"aws-1", config}, loopback_context());
  BOOST_REQUIRE(elsewhere.ok());
  BOOST_TEST(!(*elsewhere)->list().ok());
  BOOST_TEST(contains(aws.state().last_error, "credential scope"));
}

BOOST_AUTO_TEST_CASE(azure_lists_vault_certificates_with_a_client_credentials_token) {
  t::mock_azure_kv azure(ca, azure_port);
  {
    std::lock_guard<std::mutex> lock(azure.state().mutex);
    azure.state().certificates = {{"web", web.der}, {"api", api.der}, {"mail", mail.der}};
  }
  events::json_object config;
  config.set("vault_url", azure.url())
      .set("authority_url", azure.url())
      .set("tenant_id", azure.state().tenant_id)
      .set("client_id", azure.state().client_id)
      .set("client_secret", azure.state().client_secret)
      .set("ca_bundle_path", ca.root_path);
  auto source = connectors::azure_kv::make_azure_kv_source({"az-1", config}, loopback_context());
  BOOST_REQUIRE(source.ok());
  auto page = (*source)->list();
  BOOST_REQUIRE_MESSAGE(page.ok(), (page.ok() ? std::string() : page.error().message));
  BOOST_TEST(azure.state().refused == 0, azure.state().last_error);
  const std::string v = "/3f1c2bd0a1e54c6e8d1f0e9a7b6c5d4e";
  BOOST_TEST(
      locations(*page) == (std::vector<std::string>{"azure-kv://api" + v, "azure-kv://mail" + v,
                                                    "azure-kv://web" + v}),
      boost::test_tools::per_element());
  BOOST_TEST(at(*page, "azure-kv://mail" + v)->fingerprint_sha256_hex == mail.fingerprint);
  BOOST_TEST(page->warnings.empty());
  BOOST_TEST(azure.state().token_calls == 1);
  BOOST_TEST(azure.state().list_calls == 2);  // nextLink followed once
  BOOST_TEST(azure.state().get_calls == 3);

  // A nextLink to another host is not followed: the bearer token stays with the vault.
  {
    std::lock_guard<std::mutex> lock(azure.state().mutex);
    azure.state().next_link_base = "https://127.0.0.2:" + std::to_string(azure_port);
  }
  auto elsewhere = (*source)->list();
  BOOST_REQUIRE(elsewhere.ok());
  BOOST_TEST(elsewhere->certificates.size() == 2u);  // the first page only
  BOOST_REQUIRE(elsewhere->warnings.size() == 1u);
  BOOST_TEST(contains(elsewhere->warnings[0], "nextLink leaves the vault"));
  BOOST_TEST(azure.state().list_calls == 3);

  config.set("client_secret", "wrong-azure-secret");
  auto wrong = connectors::azure_kv::make_azure_kv_source({"az-1", config}, loopback_context());
  BOOST_REQUIRE(wrong.ok());
  auto refused = (*wrong)->list();
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == connectors::connector_errc::failed);
  BOOST_TEST(contains(refused.error().message, "invalid_client"));
  BOOST_TEST(!contains(refused.error().message, "wrong-azure-secret"));
  BOOST_TEST(azure.state().list_calls == 3);  // no vault call without a token
}

BOOST_AUTO_TEST_CASE(gcp_exchanges_a_service_account_jwt_and_reads_labelled_secrets) {
  t::mock_gcp_sm gcp(ca, gcp_port);
  auto key = crypto::generate_key(crypto::key_type::rsa_2048);
  BOOST_REQUIRE(key.ok());
  auto pub = crypto::jwk_of_private_key(key->pem);
  BOOST_REQUIRE(pub.ok());
  {
    std::lock_guard<std::mutex> lock(gcp.state().mutex);
    gcp.state().public_jwk = pub->canonical_json;
    const std::map<std::string, std::string> cert_label = {{"type", "certificate"}};
    gcp.state().secrets = {{"web-tls", cert_label, web.pem},
                           {"api-der", cert_label, api.der},
                           {"mail-tls", cert_label, mail.pem},
                           {"db-password", {{"type", "password"}}, "hunter2"}};
  }
  events::json_object creds;
  creds.set("type", "service_account")
      .set("project_id", gcp.state().project)
      .set("private_key_id", gcp.state().private_key_id)
      .set("private_key", key->pem)
      .set("client_email", gcp.state().client_email)
      .set("token_uri", gcp.url() + "/token");
  events::json_object config;
  config.set("project", gcp.state().project)
      .set("credentials_json", creds.dump())
      .set("api_url", gcp.url())
      .set("ca_bundle_path", ca.root_path);
  auto source = connectors::gcp_sm::make_gcp_sm_source({"gcp-1", config}, loopback_context());
  BOOST_REQUIRE_MESSAGE(source.ok(), (source.ok() ? std::string() : source.error().message));
  auto page = (*source)->list();
  BOOST_REQUIRE_MESSAGE(page.ok(), (page.ok() ? std::string() : page.error().message));
  BOOST_TEST(gcp.state().refused == 0, gcp.state().last_error);
  BOOST_TEST(locations(*page) == (std::vector<std::string>{"gcp-sm://certctl-test/api-der",
                                                           "gcp-sm://certctl-test/mail-tls",
                                                           "gcp-sm://certctl-test/web-tls"}),
             boost::test_tools::per_element());
  BOOST_TEST(at(*page, "gcp-sm://certctl-test/api-der")->fingerprint_sha256_hex == api.fingerprint);
  BOOST_TEST(gcp.state().token_calls == 1);
  BOOST_TEST(gcp.state().list_calls == 2);    // nextPageToken followed once
  BOOST_TEST(gcp.state().access_calls == 3);  // the password secret is filtered out by label

  // A key the service account does not have: the assertion's signature fails.
  auto other = crypto::generate_key(crypto::key_type::rsa_2048);
  BOOST_REQUIRE(other.ok());
  creds.set("private_key", other->pem);
  config.set("credentials_json", creds.dump());
  auto wrong = connectors::gcp_sm::make_gcp_sm_source({"gcp-1", config}, loopback_context());
  BOOST_REQUIRE(wrong.ok());
  auto refused = (*wrong)->list();
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(contains(refused.error().message, "Invalid JWT Signature"));
  BOOST_TEST(!contains(refused.error().message, "PRIVATE KEY"));
}

BOOST_AUTO_TEST_CASE(loopback_is_refused_unless_the_outbound_policy_allows_it) {
  t::mock_aws_sm aws(ca, aws_port);
  events::json_object config;
  config.set("region", "us-east-1")
      .set("access_key_id", "AKIDEXAMPLE")
      .set("secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
      .set("endpoint_url", aws.url())
      .set("ca_bundle_path", ca.root_path);
  auto source = connectors::aws_sm::make_aws_sm_source({"aws-1", config}, {});
  BOOST_REQUIRE(source.ok());
  auto page = (*source)->list();
  BOOST_REQUIRE(!page.ok());
  BOOST_TEST(page.error().code == connectors::connector_errc::unavailable);
  BOOST_TEST(contains(page.error().message, "outbound policy"));
  BOOST_TEST(aws.state().list_calls == 0);
}

BOOST_AUTO_TEST_CASE(registered_with_their_credentials_marked_secret) {
  connectors::connector_registry registry;
  BOOST_REQUIRE(connectors::register_aws_sm_discovery(registry, loopback_context()).ok());
  BOOST_REQUIRE(connectors::register_azure_kv_discovery(registry, loopback_context()).ok());
  BOOST_REQUIRE(connectors::register_gcp_sm_discovery(registry, loopback_context()).ok());
  auto secrets = [&](const char* type) {
    auto* schema = registry.schema(connectors::connector_kind::discovery, type);
    BOOST_REQUIRE(schema);
    return schema->secret_fields();
  };
  BOOST_TEST(secrets("AWSSecretsManager") ==
                 (std::vector<std::string>{"secret_access_key", "session_token"}),
             boost::test_tools::per_element());
  BOOST_TEST(secrets("AzureKeyVault") == (std::vector<std::string>{"client_secret"}),
             boost::test_tools::per_element());
  BOOST_TEST(secrets("GCPSecretManager") == (std::vector<std::string>{"credentials_json"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
