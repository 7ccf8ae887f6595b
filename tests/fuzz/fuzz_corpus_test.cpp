// Runs every fuzz target over its seeds and over deterministic mutations of them (bit flips,
// truncations, splices), so the ordinary test run exercises the parsers' error paths.
#define BOOST_TEST_MODULE fuzz_corpus
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "events/json_depth.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/ocsp.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

using namespace certctl::fuzz;

namespace {

const std::vector<std::string> json_seeds = {"{}",
                                             "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":\"\\u00e9\"}",
                                             "[1,2,3]",
                                             "{\"a\":1,\"a\":2}",
                                             "{\"n\":1e308,\"m\":-0.0,\"s\":\"\\ud83d\\ude00\"}",
                                             "{\"x\":",
                                             "\"str\"",
                                             "{\"deep\":[[[[[[[]]]]]]]}"};
/// Nesting at, just past and far past the cap, as arrays, objects and a mix, plus brackets
/// inside strings (which must not count).
std::vector<std::string> deep_seeds() {
  const std::size_t cap = certctl::events::max_untrusted_json_depth;
  auto arrays = [](std::size_t d) {
    return "{\"a\":" + std::string(d - 1, '[') + std::string(d - 1, ']') + "}";
  };
  auto objects = [](std::size_t d) {
    std::string s;
    for (std::size_t i = 1; i < d; ++i) s += "{\"k\":";
    return s + "{}" + std::string(d - 1, '}');
  };
  std::string mixed;
  for (int i = 0; i < 50000; ++i) mixed += "{\"a\":[";
  return {arrays(cap),
          arrays(cap + 1),
          objects(cap),
          objects(cap + 1),
          std::string(100000, '['),
          mixed,
          "{\"s\":\"" + std::string(5000, '[') + "\\\"]]\"}"};
}

const std::vector<std::string> time_seeds = {"2026-11-27T08:12:46Z",
                                             "2024-02-29T23:59:60.123456+05:30",
                                             "2026-11-27t08:12:46.1-00:00", "9999-12-31T23:59:59Z"};
const std::vector<std::string> pem_seeds = {
    "-----BEGIN CERTIFICATE "
    "REQUEST-----\nMIIBADCBpgIBADAbMRkwFwYDVQQDDBB3d3cuZXhhbXBsZS50ZXN0\n-----END CERTIFICATE "
    "REQUEST-----\n",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN "
    "CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    std::string(70000, 'A')};
const std::vector<std::string> url_seeds = {
    "memory:", "sqlite:///var/x.db", "postgresql://u:p@h:1/d?x=y", "postgres://", "sqlite://"};
const std::vector<std::string> bearer_seeds = {"Bearer cc_abc", "bearer  x", "Basic Zm9v",
                                               "Bearer ", "{\"k\":[1]}"};

void drive(target_fn fn, const std::vector<std::string>& seeds, int mutations) {
  std::mt19937 rng(42);  // fixed: a failure reproduces
  for (const auto& s : seeds) {
    fn(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    for (int i = 0; i < mutations; ++i) {
      std::string m = s;
      switch (rng() % 4) {
        case 0:
          if (!m.empty()) m[rng() % m.size()] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 1:
          m.resize(m.empty() ? 0 : rng() % m.size());
          break;
        case 2:
          m.insert(m.empty() ? 0 : rng() % m.size(), seeds[rng() % seeds.size()]);
          break;
        default:
          m.push_back(static_cast<char>(rng() % 256));
          break;
      }
      fn(reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(json_parsers_survive_mutated_input) {
  drive(canonical_json, json_seeds, 2000);
  drive(json_object, json_seeds, 2000);
  drive(bearer_and_request_json, json_seeds, 500);
  drive(rest_body, json_seeds, 2000);
}

// The crash a new user found: a body of 100,000 '[' took the server down with SIGSEGV.
BOOST_AUTO_TEST_CASE(deeply_nested_bodies_are_refused_not_crashed_on) {
  const auto seeds = deep_seeds();
  drive(rest_body, seeds, 50);
  drive(json_object, seeds, 50);
  drive(bearer_and_request_json, seeds, 50);
  drive(jws, seeds, 50);
}

BOOST_AUTO_TEST_CASE(time_parser_survives_mutated_input) {
  drive(rfc3339, time_seeds, 5000);
}

BOOST_AUTO_TEST_CASE(pem_and_der_parsers_survive_mutated_input) {
  drive(csr_pem, pem_seeds, 300);
  drive(certificate_pem, pem_seeds, 300);
}

BOOST_AUTO_TEST_CASE(store_urls_and_bearer_headers_survive_mutated_input) {
  drive(store_url, url_seeds, 2000);
  drive(bearer_and_request_json, bearer_seeds, 2000);
}

BOOST_AUTO_TEST_CASE(jws_parser_survives_mutated_input) {
  // Real signed requests (each algorithm, jwk and kid forms) plus hand-made edge cases.
  std::vector<std::string> seeds = {
      R"({"protected":"eyJhbGciOiJFUzI1NiJ9","payload":"","signature":"AA"})",
      R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})", "Zm9vYg", "e30"};
  for (auto t : {certctl::crypto::key_type::ecdsa_p256, certctl::crypto::key_type::rsa_2048,
                 certctl::crypto::key_type::ed25519}) {
    auto key = certctl::crypto::generate_key(t);
    BOOST_REQUIRE(key.ok());
    auto a = certctl::crypto::sign_jws(key->pem, "bm9uY2U", "https://h/acme/new-account", "",
                                       R"({"termsOfServiceAgreed":true})");
    auto b = certctl::crypto::sign_jws(key->pem, "bm9uY2U", "https://h/acme/order/1",
                                       "https://h/acme/account/x", "");
    BOOST_REQUIRE(a.ok() && b.ok());
    seeds.push_back(*a);
    seeds.push_back(*b);
  }
  drive(jws, seeds, 400);
}

BOOST_AUTO_TEST_CASE(ocsp_request_parser_and_crl_builder_survive_mutated_input) {
  // Real requests (SHA-1 and SHA-256 CertIDs, with and without nonce, several ids) of a CA.
  auto key = certctl::crypto::generate_key(certctl::crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(key.ok());
  certctl::crypto::certificate_template t;
  t.subject.common_name = "seed CA";
  t.not_before = 1'700'000'000;
  t.not_after = 2'000'000'000;
  t.is_ca = true;
  auto ca = certctl::crypto::self_sign(key->pem, t);
  BOOST_REQUIRE(ca.ok());
  std::vector<std::string> seeds = {std::string("\x30\x03\x0a\x01\x01", 5)};
  for (auto hash : {certctl::crypto::ocsp_hash::sha1, certctl::crypto::ocsp_hash::sha256})
    for (bool nonce : {false, true}) {
      auto req = certctl::crypto::build_ocsp_request(*ca, {"0A1B", "7F00FF"}, hash, nonce);
      BOOST_REQUIRE(req.ok());
      seeds.emplace_back(req->begin(), req->end());
    }
  drive(ocsp_request, seeds, 1500);
  const std::vector<std::string> crl_seeds = {"0A 1 1790000000 0\n0B 4 1790000001 1789990000\n",
                                              "7F000000000000000000000000000001 0 1790000000 0\n",
                                              "00FF 10 0 0\nZZ 1 1 1\n", "01 7 1790000000 0\n", ""};
  drive(crl_builder, crl_seeds, 300);
}

BOOST_AUTO_TEST_CASE(dns_response_decoder_survives_mutated_input) {
  // Answers with compression pointers (to the question, into a CNAME's rdata), TC, NXDOMAIN.
  auto b = [](std::initializer_list<int> v) {
    std::string s;
    for (int x : v) s += static_cast<char>(x);
    return s;
  };
  const std::string q = b({1, 'a', 4}) + "test" + b({0, 0, 16, 0, 1});
  const std::vector<std::string> seeds = {
      b({0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}) + q +
          b({0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6, 5}) + "hello",
      b({0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0}) + q +
          b({0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'x', 0xC0, 14}) +
          b({0xC0, 35, 0, 16, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'y', 1, 'z'}),
      b({0x12, 0x34, 0x83, 0x83, 0, 1, 0, 0, 0, 0, 0, 0}) + q,
      b({0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xC0, 12})};
  drive(dns_message, seeds, 3000);
}
