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

BOOST_AUTO_TEST_SUITE_END()
