// Runs every fuzz target over its seeds and over deterministic mutations of them (bit flips,
// truncations, splices), so the ordinary test run exercises the parsers' error paths.
#define BOOST_TEST_MODULE fuzz_corpus
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/cluster/command_codec.hpp"
#include "events/json_depth.hpp"
#include "gateways/acme/tls_alpn01.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/ocsp.hpp"
#include "infra/crypto/sha256.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/fuzz/fuzz_targets.hpp"
#include "tests/fuzz/seed_mutations.hpp"

using namespace certctl::fuzz;

namespace {

const std::vector<std::string> json_seeds = {"{}",
                                             "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":\"\\u00e9\"}",
                                             "[1,2,3]",
                                             "{\"a\":1,\"a\":2}",
                                             "{\"n\":1e308,\"m\":-0.0,\"s\":\"\\ud83d\\ude00\"}",
                                             "{\"x\":",
                                             "\"str\"",
                                             "{\"deep\":[[[[[[[]]]]]]]}",
                                             "[0e244,-0.0e308]"};
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

/// With CERTCTL_FUZZ_SEED_DIR set, every seed is also written to <dir>/<target>/<n>:
/// tools/dev/fuzz.sh starts the libFuzzer binaries from them (a target behind an uninstrumented
/// parser, such as OpenSSL's DER decoder, would otherwise rarely get past its first byte).
void export_seeds(target_fn fn, const std::vector<std::string>& seeds) {
  const char* dir = std::getenv("CERTCTL_FUZZ_SEED_DIR");
  if (dir == nullptr || *dir == '\0') return;
  static const std::map<target_fn, const char*> names = {
      {canonical_json, "canonical_json"},
      {json_object, "json_object"},
      {rfc3339, "rfc3339"},
      {csr_pem, "csr_pem"},
      {certificate_pem, "certificate_pem"},
      {store_url, "store_url"},
      {bearer_and_request_json, "bearer_and_request_json"},
      {rest_body, "rest_body"},
      {jws, "jws"},
      {ocsp_request, "ocsp_request"},
      {crl_builder, "crl_builder"},
      {dns_message, "dns_message"},
      {cluster_command, "cluster_command"},
      {http_headers, "http_headers"},
      {pki_http1_request, "pki_http1_request"},
      {tls_alpn01_certificate, "tls_alpn01_certificate"},
      {est_csr_body, "est_csr_body"}};
  const auto name = names.find(fn);
  BOOST_REQUIRE(name != names.end());
  const auto target_dir = std::filesystem::path(dir) / name->second;
  std::filesystem::create_directories(target_dir);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(target_dir / ("seed-" + std::to_string(std::hash<std::string>{}(seeds[i]))),
                      std::ios::binary);
    out.write(seeds[i].data(), static_cast<std::streamsize>(seeds[i].size()));
    BOOST_REQUIRE(out.good());
  }
}

void drive(target_fn fn, const std::vector<std::string>& seeds, int mutations) {
  export_seeds(fn, seeds);
  run_seed_mutations(fn, seeds, mutations);
}

/// DER of a self-signed tls-alpn-01 answer (RFC 8737 §3) for `san`, carrying SHA-256 of
/// `key_authorization` in the critical acmeIdentifier extension.
std::string tls_alpn01_der(const std::string& san, const std::string& key_authorization) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  BOOST_REQUIRE(key != nullptr && cert != nullptr);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* alt =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, ("DNS:" + san).c_str());
  BOOST_REQUIRE(alt != nullptr);
  X509_add_ext(cert, alt, -1);
  X509_EXTENSION_free(alt);
  const auto digest = certctl::crypto::sha256_of(key_authorization);
  std::string value("\x04\x20", 2);
  value.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(value.data()),
                        static_cast<int>(value.size()));
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  X509_EXTENSION* acme = X509_EXTENSION_create_by_OBJ(nullptr, oid, 1, data);
  BOOST_REQUIRE(acme != nullptr);
  X509_add_ext(cert, acme, -1);
  X509_EXTENSION_free(acme);
  ASN1_OBJECT_free(oid);
  ASN1_OCTET_STRING_free(data);
  BOOST_REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  BOOST_REQUIRE(len > 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
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
    auto token = certctl::crypto::sign_compact_jws(key->pem, "kid", R"({"sub":"x"})");
    BOOST_REQUIRE(token.ok());
    seeds.push_back(*token);
  }
  // A step-ca provisioner key: private JWK, and encrypted as a JWE (few PBKDF2 rounds).
  const std::string private_jwk =
      R"({"kty":"EC","crv":"P-256","x":"aqoiNipHVN7X3UFAbg_SLWLZMIk9GLKfA59qt5fH6pY","y":"n-VpVoH_5c0xDJdAa1Cqbz1XwI1aGUSB1y9jJF0tJZ8","d":"UfKKpJwPcdSPtcyrW2s8BX2_c0e_oJt3wIaiIWOw76g"})";
  seeds.push_back(private_jwk);
  auto jwe = certctl::crypto::encrypt_pbes2_jwe(private_jwk, "fuzz", 10);
  BOOST_REQUIRE(jwe.ok());
  seeds.push_back(*jwe);
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

BOOST_AUTO_TEST_CASE(cluster_command_codec_survives_mutated_input) {
  // Real forwarded commands and replies (ok and error) as nodes put them on Kafka.
  certctl::domain::command cmd;
  cmd.name = "certificate.create";
  cmd.entity_id = "mc-seed";
  cmd.body.set("common_name", "seed.example.test").set("sans", "a,b");
  cmd.principal = "it-admin";
  cmd.source_address = "127.0.0.1";
  cmd.correlation_id = "req-1";
  cmd.command_id = "idem-1";
  certctl::actors::command_outcome ok{cmd.body, 42, 3, false};
  const std::vector<std::string> seeds = {
      certctl::cluster::encode_command("certificate", cmd), certctl::cluster::encode_result(ok),
      certctl::cluster::encode_result(
          certctl::domain::domain_error{certctl::domain::domain_errc::conflict, "already exists"}),
      R"({"v":1,"ok":true,"view":{},"position":-1,"stream_version":0,"duplicate":true})",
      R"({"v":2})"};
  // The seeds decode: mutations start from the accepting paths, not just the refusals.
  BOOST_REQUIRE(certctl::cluster::decode_command(seeds[0]).ok());
  BOOST_REQUIRE(certctl::cluster::decode_result(seeds[1]).ok());
  drive(cluster_command, seeds, 3000);
}

BOOST_AUTO_TEST_CASE(request_headers_survive_mutated_input) {
  const std::vector<std::string> seeds = {"Bearer it-admin-key-0123456789abcdef",
                                          "bearer \t tok \t",
                                          "0",
                                          "0042",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "-1",
                                          "req-1.a_B",
                                          std::string(128, 'a'),
                                          std::string(129, 'a'),
                                          "id\r\nX-Injected: 1"};
  drive(http_headers, seeds, 3000);
}

BOOST_AUTO_TEST_CASE(pki_http1_requests_survive_mutated_input) {
  const std::vector<std::string> seeds = {
      "GET /.well-known/pki/ocsp/iss-local/0A1B HTTP/1.1\r\nHost: h\r\n\r\n",
      "POST /.well-known/pki/ocsp/iss HTTP/1.1\r\nContent-Type: application/ocsp-request\r\n"
      "Content-Length: 4\r\n\r\n0\x02\x01\x00GET /.well-known/pki/crl/iss HTTP/1.0\r\n"
      "Connection: keep-alive\r\n\r\n",
      "GET /a%2Fb?x=1&y=%20 HTTP/1.1\nIf-None-Match: \"e\"\n\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"};
  drive(pki_http1_request, seeds, 3000);
}

BOOST_AUTO_TEST_CASE(tls_alpn01_certificate_check_survives_mutated_input) {
  // The target's identifier and key authorization; a passing answer and near misses.
  const std::string key_authorization = "token-0123456789.thumbprint-abcdef";
  const std::string good = tls_alpn01_der("alpn.example.test", key_authorization);
  BOOST_TEST(!certctl::gateways::acme::check_tls_alpn01_certificate(good, "alpn.example.test",
                                                                    key_authorization));
  const std::string other_name = tls_alpn01_der("other.example.test", key_authorization);
  const std::string other_digest = tls_alpn01_der("alpn.example.test", "another key auth");
  BOOST_TEST(certctl::gateways::acme::check_tls_alpn01_certificate(other_name, "alpn.example.test",
                                                                   key_authorization)
                 .has_value());
  BOOST_TEST(certctl::gateways::acme::check_tls_alpn01_certificate(
                 other_digest, "alpn.example.test", key_authorization)
                 .has_value());
  drive(tls_alpn01_certificate, {good, other_name, other_digest, std::string("\x30\x00", 2)}, 1500);
}

BOOST_AUTO_TEST_CASE(est_enrollment_bodies_survive_mutated_input) {
  // A real CSR in every encoding devices send, plus near misses.
  auto key = certctl::crypto::generate_key(certctl::crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(key.ok());
  auto pem = certctl::crypto::build_csr({key->pem, "fuzz.example.test", {}});
  BOOST_REQUIRE(pem.ok());
  std::string b64 = pem->substr(pem->find('\n') + 1);
  b64 = b64.substr(0, b64.find("-----END"));
  std::string crlf;
  for (char c : b64) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  drive(est_csr_body,
        {*pem, b64, crlf, "Basic ZGV2aWNlOnBhc3M=", "-----BEGIN CERTIFICATE REQUEST-----\n",
         std::string("\x30\x82\x01\x00", 4)},
        1500);
}
