// The agent's filesystem walk: which files it reads, PEM and DER, a key beside a certificate
// never read out, junk and oversized files reported, nested directories walked.
#include <filesystem>

#include <boost/test/unit_test.hpp>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/tools/agent/agent_test_support.hpp"
#include "tools/agent/discovery_scan.hpp"

using namespace certctl;
using namespace certctl::agent;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(agent_discovery_scan)

BOOST_AUTO_TEST_CASE(pem_and_der_certificates_are_found_and_nothing_else_is_read_out) {
  test::scratch_dir dir;
  auto key = crypto::generate_key();
  BOOST_REQUIRE(key.ok());
  const std::string a = test::certificate_for(key->public_key.spki_der, "a.example.com");
  const std::string b = test::certificate_for(key->public_key.spki_der, "b.example.com");
  fs::create_directories(dir.path + "/one/deep/er");
  fs::create_directories(dir.path + "/two");
  test::write(dir.path + "/one/bundle.PEM", key->pem + a + b);  // key first, then a chain
  auto der = crypto::certificate_pem_to_der(a);
  BOOST_REQUIRE(der.ok());
  test::write(dir.path + "/one/deep/er/a.der", std::string(der->begin(), der->end()));
  test::write(dir.path + "/one/a.txt", a);           // not a certificate extension
  test::write(dir.path + "/two/junk.crt", "hello");  // wrong content
  test::write(dir.path + "/two/big.cer", std::string(max_discovery_file_bytes + 1, 'x'));
  test::write(dir.path + "/two/key-only.pem", key->pem);

  auto s = scan_directories({dir.path + "/one", dir.path + "/two", dir.path + "/missing"});
  BOOST_REQUIRE_EQUAL(s.found.size(), 3u);
  int pem = 0, der_count = 0;
  for (const auto& f : s.found) {
    BOOST_TEST(f.pem.find("PRIVATE") == std::string::npos);
    BOOST_TEST(crypto::parse_certificate(f.pem).ok());
    pem += f.format == "PEM";
    der_count += f.format == "DER";
  }
  BOOST_TEST(pem == 2);
  BOOST_TEST(der_count == 1);
  std::string errors;
  for (const auto& e : s.errors) errors += e + "\n";
  BOOST_TEST(s.errors.size() == 4u, errors);  // junk, big, key-only, missing dir
  BOOST_TEST(errors.find("junk.crt") != std::string::npos);
  BOOST_TEST(errors.find("big.cer") != std::string::npos);
  BOOST_TEST(errors.find("key-only.pem: no CERTIFICATE block") != std::string::npos);
  BOOST_TEST(errors.find("missing") != std::string::npos);
  BOOST_TEST(errors.find("a.txt") == std::string::npos);
  BOOST_TEST(!s.started_at.empty());
}

BOOST_AUTO_TEST_SUITE_END()
