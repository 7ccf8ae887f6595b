#include <boost/test/unit_test.hpp>

#include "actors/workflows/profile_policy.hpp"

using namespace certctl;

namespace {
actors::profile_policy policy(const char* json) {
  std::string why;
  auto p = actors::policy_from_profile(events::json_object::parse(json).value(), &why);
  BOOST_REQUIRE_MESSAGE(p.has_value(), why);
  return *p;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(profile_policy)

BOOST_AUTO_TEST_CASE(a_profile_caps_ttl_and_names_its_ekus) {
  auto p = policy(R"({"max_ttl_seconds":3600,"allowed_ekus":["serverAuth","clientAuth"]})");
  BOOST_TEST(p.max_ttl_us == 3600LL * 1000000);
  BOOST_TEST(p.ekus.size() == 2u);
}

BOOST_AUTO_TEST_CASE(csr_keys_are_checked_against_algorithm_and_minimum_size) {
  auto p = policy(
      R"({"allowed_key_algorithms":[{"algorithm":"ECDSA","min_size":384},{"algorithm":"RSA","min_size":3072}]})");
  BOOST_TEST(!actors::check_csr_key(p, "ECDSA", 384).has_value());
  BOOST_TEST(actors::check_csr_key(p, "ECDSA", 256).value().find("minimum of 384") !=
             std::string::npos);
  BOOST_TEST(actors::check_csr_key(p, "RSA", 2048).has_value());
  BOOST_TEST(actors::check_csr_key(p, "Ed25519", 256).value().find("not allowed") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_server_generates_the_smallest_key_the_profile_allows) {
  BOOST_TEST((actors::server_key_type(policy("{}")) == crypto::key_type::ecdsa_p256));
  BOOST_TEST((actors::server_key_type(
                  policy(R"({"allowed_key_algorithms":[{"algorithm":"ECDSA","min_size":384}]})")) ==
              crypto::key_type::ecdsa_p384));
  BOOST_TEST((actors::server_key_type(
                  policy(R"({"allowed_key_algorithms":[{"algorithm":"RSA","min_size":4096}]})")) ==
              crypto::key_type::rsa_4096));
}

BOOST_AUTO_TEST_CASE(unknown_algorithms_and_ekus_are_errors) {
  std::string why;
  BOOST_TEST(!actors::policy_from_profile(
                  events::json_object::parse(R"({"allowed_key_algorithms":[{"algorithm":"DSA"}]})")
                      .value(),
                  &why)
                  .has_value());
  BOOST_TEST(why.find("DSA") != std::string::npos);
  BOOST_TEST(!actors::policy_from_profile(
                  events::json_object::parse(R"({"allowed_ekus":["magic"]})").value(), &why)
                  .has_value());
}

BOOST_AUTO_TEST_CASE(san_patterns_match_one_label_per_star_and_every_name_must_match) {
  using actors::glob_match;
  BOOST_TEST(glob_match("*.corp.example.com", "web.corp.example.com", '.', true));
  BOOST_TEST(glob_match("*.corp.example.com", "WEB.Corp.Example.com", '.', true));
  BOOST_TEST(!glob_match("*.corp.example.com", "a.b.corp.example.com", '.', true));
  BOOST_TEST(!glob_match("*.corp.example.com", "corp.example.com", '.', true));
  BOOST_TEST(glob_match("web-*.example.com", "web-01.example.com", '.', true));
  BOOST_TEST(!glob_match("web-*.example.com", "api-01.example.com", '.', true));
  BOOST_TEST(glob_match("*", "anything", '.', true));
  BOOST_TEST(!glob_match("*", "two.labels", '.', true));

  auto p = policy(R"({"required_san_patterns":["*.corp.example.com","corp.example.com"]})");
  crypto::subject_alt_names ok;
  ok.dns = {"corp.example.com", "api.corp.example.com"};
  BOOST_TEST(!actors::check_names(p, "api.corp.example.com", ok));
  crypto::subject_alt_names bad = ok;
  bad.dns.push_back("evil.example.org");
  auto why = actors::check_names(p, "api.corp.example.com", bad);
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(*why == "name evil.example.org matches none of the profile's SAN patterns");
  // The CN is a name too when it looks like one.
  BOOST_TEST(actors::check_names(p, "www.example.org", ok).has_value());
}

BOOST_AUTO_TEST_CASE(spiffe_ids_must_match_the_pattern_segment_by_segment) {
  auto p = policy(R"({"spiffe_uri_pattern":"spiffe://corp.example/ns/*/sa/*"})");
  crypto::subject_alt_names ids;
  ids.uri = {"spiffe://corp.example/ns/payments/sa/api"};
  BOOST_TEST(!actors::check_names(p, "", ids));
  ids.uri = {"spiffe://corp.example/ns/payments/extra/sa/api"};
  BOOST_TEST(actors::check_names(p, "", ids).has_value());
  ids.uri = {"https://corp.example/ns/payments/sa/api"};
  BOOST_TEST(actors::check_names(p, "", ids).has_value());
  // Without patterns, any names.
  BOOST_TEST(!actors::check_names(policy("{}"), "x.example", ids));
}

BOOST_AUTO_TEST_SUITE_END()
