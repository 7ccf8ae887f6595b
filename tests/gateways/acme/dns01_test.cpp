// dns-01 (gateways/acme/dns01) against an in-test DNS server on 127.0.0.1: the right digest,
// a wrong one, NXDOMAIN, a CNAME'd challenge name, a truncated UDP answer (TCP fallback) and
// a resolver that never answers (timeout).
#include <boost/test/unit_test.hpp>

#include "gateways/acme/dns01.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/sha256.hpp"
#include "tests/gateways/acme/dns_test_server.hpp"

using namespace certctl::gateways::acme;
using certctl::testing::dns_test_server;

namespace {

const std::string key_auth = "token-abc.thumbprint-xyz";
constexpr std::chrono::milliseconds timeout{2000};

resolver_address at(const dns_test_server& s) {
  return *parse_resolver_address(s.address());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns01)

BOOST_AUTO_TEST_CASE(txt_value_is_base64url_of_the_sha256_of_the_key_authorization) {
  // RFC 8555 §8.4 example shape: 43 characters, no padding.
  const auto d = certctl::crypto::sha256_of(key_auth);
  BOOST_TEST(dns01_txt_value(key_auth) == certctl::crypto::base64url_encode(std::string_view(
                                              reinterpret_cast<const char*>(d.data()), d.size())));
  BOOST_TEST(dns01_txt_value(key_auth).size() == 43u);
}

BOOST_AUTO_TEST_CASE(the_expected_digest_among_other_values_passes) {
  dns_test_server s;
  s.set_txt("_acme-challenge.www.example.test", {"stale-value", dns01_txt_value(key_auth)});
  BOOST_TEST(!check_dns01("www.example.test", key_auth, at(s), timeout).has_value());
  BOOST_TEST(s.udp_queries.load() == 1);
  BOOST_TEST(s.tcp_queries.load() == 0);
}

BOOST_AUTO_TEST_CASE(wrong_digest_and_missing_record_fail_with_a_reason) {
  dns_test_server s;
  s.set_txt("_acme-challenge.www.example.test", {dns01_txt_value("other.key-auth")});
  auto wrong = check_dns01("www.example.test", key_auth, at(s), timeout);
  BOOST_REQUIRE(wrong.has_value());
  BOOST_TEST(wrong->find("expected digest") != std::string::npos, *wrong);
  auto missing = check_dns01("nothing.example.test", key_auth, at(s), timeout);
  BOOST_REQUIRE(missing.has_value());
  BOOST_TEST(missing->find("no TXT record") != std::string::npos, *missing);
}

BOOST_AUTO_TEST_CASE(a_cnamed_challenge_name_is_followed_within_the_answer) {
  dns_test_server s;
  s.set_cname("_acme-challenge.www.example.test", "www.acme-delegation.test");
  s.set_txt("www.acme-delegation.test", {dns01_txt_value(key_auth)});
  auto r = check_dns01("www.example.test", key_auth, at(s), timeout);
  BOOST_TEST(!r.has_value(), r.value_or(""));
}

BOOST_AUTO_TEST_CASE(a_truncated_udp_answer_is_asked_again_over_tcp) {
  dns_test_server s;
  s.truncate_udp = true;
  // Long enough that a real server would truncate: many values, one of them right.
  std::vector<std::string> values(30, std::string(200, 'x'));
  values.push_back(dns01_txt_value(key_auth));
  s.set_txt("_acme-challenge.big.example.test", values);
  auto r = check_dns01("big.example.test", key_auth, at(s), timeout);
  BOOST_TEST(!r.has_value(), r.value_or(""));
  BOOST_TEST(s.tcp_queries.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_silent_resolver_times_out) {
  dns_test_server s;
  s.silent = true;
  const auto start = std::chrono::steady_clock::now();
  std::string detail;
  auto r =
      check_dns01("www.example.test", key_auth, at(s), std::chrono::milliseconds(300), &detail);
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_REQUIRE(r.has_value());
  // The client hears that the lookup failed, not where the resolver is; the log hears both.
  BOOST_TEST(*r == "dns-01: the DNS lookup of _acme-challenge.www.example.test failed");
  BOOST_TEST(detail.find("no answer") != std::string::npos, detail);
  BOOST_TEST(detail.find(std::to_string(at(s).port)) != std::string::npos, detail);
  BOOST_TEST((took < std::chrono::seconds(2)));
}

BOOST_AUTO_TEST_SUITE_END()
