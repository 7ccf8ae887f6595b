// Governance rules as pure functions: each type's finding, validation of rule documents, and
// the details operators trip over (subdomain matching, IP literals, disabled rules).
#include <boost/test/unit_test.hpp>

#include "domain/policy_rules.hpp"

using certctl::domain::certificate_facts;
using certctl::domain::evaluate_policy;
using certctl::domain::validate_policy;
using certctl::events::json_object;

namespace {

json_object rule(const std::string& type, const std::string& config,
                 const std::string& severity = "Error") {
  auto r = json_object::parse(R"({"id":"pol-1","name":"r","type":")" + type + R"(","severity":")" +
                              severity + R"(","enabled":true,"config":)" + config + "}");
  BOOST_REQUIRE(r.has_value());
  return *r;
}

certificate_facts web(const std::string& cn, std::vector<std::string> sans = {}) {
  certificate_facts f;
  f.certificate_id = "mc-1";
  f.common_name = cn;
  f.sans = std::move(sans);
  f.issuer_id = "iss-local";
  f.environment = "production";
  return f;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(policy_rules)

BOOST_AUTO_TEST_CASE(allowed_domains_matches_the_domain_and_its_subdomains_only) {
  const auto r = rule("AllowedDomains", R"({"domains":["example.com","*.internal.test"]})");
  BOOST_TEST(!evaluate_policy(r, web("example.com")));
  BOOST_TEST(!evaluate_policy(r, web("WWW.Example.COM.")));
  BOOST_TEST(!evaluate_policy(r, web("a.internal.test")));
  BOOST_TEST(!evaluate_policy(r, web("example.com", {"10.0.0.1", "::1"})));  // IPs ignored
  auto bare = evaluate_policy(r, web("internal.test"));  // "*." excludes the domain itself
  BOOST_REQUIRE(bare);
  BOOST_TEST(bare->blocking());
  auto lookalike = evaluate_policy(r, web("example.com", {"badexample.com"}));
  BOOST_REQUIRE(lookalike);
  BOOST_TEST(lookalike->message == "name badexample.com is not in the allowed domains");
}

BOOST_AUTO_TEST_CASE(allowed_issuers_and_environments) {
  const auto issuers = rule("AllowedIssuers", R"({"issuer_ids":["iss-acme"]})", "Critical");
  auto f = evaluate_policy(issuers, web("a.example.com"));
  BOOST_REQUIRE(f);
  BOOST_TEST(f->message == "issuer iss-local is not an allowed issuer");
  const auto envs = rule("AllowedEnvironments", R"({"environments":["production"]})", "Warning");
  BOOST_TEST(!evaluate_policy(envs, web("a")));
  auto staging = web("a");
  staging.environment = "staging";
  auto w = evaluate_policy(envs, staging);
  BOOST_REQUIRE(w);
  BOOST_TEST(!w->blocking());
}

BOOST_AUTO_TEST_CASE(required_metadata_names_the_missing_field_or_tag) {
  const auto r = rule("RequiredMetadata", R"({"fields":["owner_id"],"tags":["cost-center"]})");
  auto f = web("a");
  auto missing_owner = evaluate_policy(r, f);
  BOOST_REQUIRE(missing_owner);
  BOOST_TEST(missing_owner->message == "required field owner_id is empty");
  f.owner_id = "owner-1";
  auto missing_tag = evaluate_policy(r, f);
  BOOST_REQUIRE(missing_tag);
  BOOST_TEST(missing_tag->message == "required tag cost-center is missing");
  f.tag_keys = {"cost-center"};
  BOOST_TEST(!evaluate_policy(r, f));
}

BOOST_AUTO_TEST_CASE(lead_time_and_lifetime_apply_only_when_known) {
  const auto lead = rule("RenewalLeadTime", R"({"min_days":14})");
  auto f = web("a");
  BOOST_TEST(!evaluate_policy(lead, f));  // no renewal policy: nothing to judge
  f.renewal_window_days = 7;
  BOOST_TEST(evaluate_policy(lead, f).has_value());
  f.renewal_window_days = 30;
  BOOST_TEST(!evaluate_policy(lead, f));
  const auto life = rule("CertificateLifetime", R"({"max_days":90})");
  f.lifetime_days = 365;
  auto long_lived = evaluate_policy(life, f);
  BOOST_REQUIRE(long_lived);
  BOOST_TEST(long_lived->message == "lifetime of 365 days exceeds the maximum of 90");
  f.lifetime_days = 90;
  BOOST_TEST(!evaluate_policy(life, f));
}

BOOST_AUTO_TEST_CASE(disabled_rules_find_nothing) {
  auto r = rule("AllowedIssuers", R"({"issuer_ids":["iss-acme"]})");
  r.set("enabled", false);
  BOOST_TEST(!evaluate_policy(r, web("a")));
}

BOOST_AUTO_TEST_CASE(validation_refuses_what_cannot_be_evaluated) {
  BOOST_TEST(!validate_policy(rule("AllowedDomains", R"({"domains":["example.com"]})")));
  BOOST_TEST(validate_policy(rule("AllowedDomains", R"({"domains":[]})")).has_value());
  BOOST_TEST(validate_policy(rule("AllowedDomains", R"({"domains":"example.com"})")).has_value());
  BOOST_TEST(validate_policy(rule("NoSuchType", "{}")).has_value());
  BOOST_TEST(
      validate_policy(rule("AllowedIssuers", R"({"issuer_ids":["a"]})", "Fatal")).has_value());
  BOOST_TEST(validate_policy(rule("RequiredMetadata", R"({"fields":["colour"]})")).has_value());
  BOOST_TEST(validate_policy(rule("RequiredMetadata", "{}")).has_value());
  BOOST_TEST(
      validate_policy(rule("RenewalLeadTime", R"({"min_days":30,"max_days":7})")).has_value());
  BOOST_TEST(validate_policy(rule("CertificateLifetime", R"({"max_days":0})")).has_value());
  BOOST_TEST(!validate_policy(rule("CertificateLifetime", R"({"max_days":397})")));
}

BOOST_AUTO_TEST_SUITE_END()
