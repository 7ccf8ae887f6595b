#define BOOST_TEST_MODULE connectors_local_ca
#include <boost/test/unit_test.hpp>

#include <set>
#include <thread>

#include "connectors/issuers/local/local_ca.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
using namespace certctl::connectors;
using certctl::test::file_mode;
using certctl::test::read_text;
using certctl::test::temp_dir;

namespace {

constexpr std::int64_t day_us = 86400LL * 1'000'000;
constexpr std::int64_t start_us = 1'800'000'000LL * 1'000'000;  // 2027-01-15, fixed for tests

local_ca_config config_in(const temp_dir& tmp, const infra::clock* clock) {
  local_ca_config c;
  c.data_dir = tmp.file("data");
  c.pki_base_url = "https://127.0.0.1:8443/";
  c.clock = clock;
  return c;
}

std::string csr_for(crypto::key_type type, const std::string& cn,
                    const crypto::subject_alt_names& sans = {}) {
  auto key = crypto::generate_key(type);
  BOOST_REQUIRE(key.ok());
  auto csr = crypto::build_csr({key->pem, cn, sans});
  CERTCTL_REQUIRE_OK(csr);
  return csr.value();
}

std::unique_ptr<local_ca> open_ok(const local_ca_config& c) {
  auto ca = open_local_ca(c);
  CERTCTL_REQUIRE_OK(ca);
  return std::move(ca).value();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_self_signed_ca_is_created_on_first_open_and_the_same_one_reloaded) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  std::string first_pem;
  {
    auto ca = open_ok(config_in(tmp, &clock));
    BOOST_TEST(ca->self_signed());
    BOOST_TEST(ca->type() == "GenericCA");
    BOOST_TEST(ca->id() == "iss-local");
    first_pem = ca->ca_certificate_pem();
    BOOST_TEST(ca->ca_chain_pem() == first_pem);
    auto info = crypto::parse_certificate(first_pem);
    BOOST_REQUIRE(info.ok());
    BOOST_TEST(info->is_ca);
    BOOST_TEST(info->key_algorithm == "ECDSA");
    BOOST_TEST(info->key_bits == 256);  // P-256 by default (cheap signatures)
    BOOST_TEST(info->common_name == "certctl Local Root CA");
    BOOST_TEST(info->not_after - info->not_before == 10 * 365 * 86400 + 3600);
  }
  clock.advance(std::chrono::hours(24 * 30));
  auto again = open_ok(config_in(tmp, &clock));
  BOOST_TEST(again->ca_certificate_pem() == first_pem);
}

BOOST_AUTO_TEST_CASE(the_ca_key_is_stored_encrypted_with_owner_only_files) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  const std::string dir = tmp.file("data/issuers/iss-local");
  BOOST_TEST(file_mode(tmp.file("data")) == 0700u);
  BOOST_TEST(file_mode(dir) == 0700u);
  BOOST_TEST(file_mode(tmp.file("data/master.key")) == 0600u);
  BOOST_TEST(file_mode(dir + "/keys.db") == 0600u);  // the key store's database
  BOOST_TEST(file_mode(dir + "/ca.pem") == 0600u);
  BOOST_TEST(read_text(dir + "/keys.db").find("PRIVATE KEY") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_certificate_without_its_key_is_not_silently_replaced) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  { open_ok(config_in(tmp, &clock)); }
  for (const char* f : {"keys.db", "keys.db-wal", "keys.db-shm"})
    std::remove(tmp.file(std::string("data/issuers/iss-local/") + f).c_str());
  auto ca = open_local_ca(config_in(tmp, &clock));
  BOOST_REQUIRE(!ca.ok());
  BOOST_TEST(ca.error().message.find("restore the key") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_issued_leaf_has_the_requested_names_urls_and_a_random_serial) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  issuance_request r;
  r.csr_pem =
      csr_for(crypto::key_type::ecdsa_p256, "from-csr.example", {{"from-csr.example"}, {}, {}, {}});
  r.sans = {{"app.example.com"}, {"10.0.0.5"}, {"ops@example.com"}, {"urn:example:app"}};
  r.ttl_us = 30 * day_us;
  auto issued = ca->issue(r);
  CERTCTL_REQUIRE_OK(issued);
  BOOST_TEST(issued->chain_pem == ca->ca_certificate_pem());
  BOOST_TEST(issued->not_before_us == start_us);
  BOOST_TEST(issued->not_after_us == start_us + 30 * day_us);
  BOOST_TEST(issued->serial_hex.size() == 32u);

  auto info = crypto::parse_certificate(issued->cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->common_name == "from-csr.example");  // request had none: the CSR's
  BOOST_TEST(info->sans.dns == r.sans.dns);             // request names win over the CSR's
  BOOST_TEST(info->sans.ip == r.sans.ip);
  BOOST_TEST(info->sans.email == r.sans.email);
  BOOST_TEST(info->sans.uri == r.sans.uri);
  BOOST_TEST(info->serial_hex == issued->serial_hex);
  BOOST_TEST(info->fingerprint_sha256_hex == issued->fingerprint_sha256_hex);
  BOOST_TEST(info->crl_urls ==
             std::vector<std::string>{"https://127.0.0.1:8443/.well-known/pki/crl/iss-local"});
  BOOST_TEST(info->ocsp_urls ==
             std::vector<std::string>{"https://127.0.0.1:8443/.well-known/pki/ocsp/iss-local"});
  BOOST_TEST((info->ext_key_usages ==
              std::vector<crypto::ext_key_usage>{crypto::ext_key_usage::server_auth}));
}

BOOST_AUTO_TEST_CASE(the_csr_names_are_used_when_the_request_names_none) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  issuance_request r;
  r.csr_pem =
      csr_for(crypto::key_type::ecdsa_p256, "", {{"only.example", "two.example"}, {}, {}, {}});
  auto issued = ca->issue(r);
  CERTCTL_REQUIRE_OK(issued);
  auto info = crypto::parse_certificate(issued->cert_pem);
  BOOST_TEST(info->common_name == "only.example");
  BOOST_TEST(info->sans.dns == (std::vector<std::string>{"only.example", "two.example"}));
}

BOOST_AUTO_TEST_CASE(a_server_certificate_asked_for_by_cn_alone_gets_it_as_dns_san) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  issuance_request r;
  r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "cn-only.example");
  auto server = ca->issue(r);
  CERTCTL_REQUIRE_OK(server);
  BOOST_TEST(crypto::parse_certificate(server->cert_pem)->sans.dns ==
             std::vector<std::string>{"cn-only.example"});

  r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "Jane Doe");  // not a host name
  r.ekus = {crypto::ext_key_usage::client_auth};
  auto client = ca->issue(r);
  CERTCTL_REQUIRE_OK(client);
  BOOST_TEST(crypto::parse_certificate(client->cert_pem)->sans.empty());
}

BOOST_AUTO_TEST_CASE(max_ttl_and_the_ca_lifetime_cap_not_after) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto cfg = config_in(tmp, &clock);
  cfg.ca_validity_us = 100 * day_us;
  auto ca = open_ok(cfg);
  issuance_request r;
  r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "ttl.example");
  r.ttl_us = 90 * day_us;
  r.max_ttl_us = 7 * day_us;
  auto capped = ca->issue(r);
  CERTCTL_REQUIRE_OK(capped);
  BOOST_TEST(capped->not_after_us - capped->not_before_us == 7 * day_us);

  r.max_ttl_us = 0;
  r.ttl_us = 0;  // the CA default (398 days) is beyond the CA's own 100 days
  auto ca_capped = ca->issue(r);
  CERTCTL_REQUIRE_OK(ca_capped);
  auto ca_info = crypto::parse_certificate(ca->ca_certificate_pem());
  BOOST_TEST(ca_capped->not_after_us == ca_info->not_after * 1'000'000);

  clock.advance(std::chrono::hours(24 * 101));  // the CA has expired
  auto expired = ca->issue(r);
  BOOST_REQUIRE(!expired.ok());
  BOOST_TEST((expired.error().code == issuer_errc::unavailable));
}

BOOST_AUTO_TEST_CASE(key_algorithm_and_size_policy_is_enforced) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  issuance_request r;
  r.csr_pem = csr_for(crypto::key_type::rsa_2048, "rsa.example");
  r.allowed_key_algorithms = {"ECDSA"};
  auto not_allowed = ca->issue(r);
  BOOST_REQUIRE(!not_allowed.ok());
  BOOST_TEST((not_allowed.error().code == issuer_errc::policy_violation));
  BOOST_TEST(not_allowed.error().message == "key algorithm RSA is not allowed (allowed: ECDSA)");

  r.allowed_key_algorithms = {"RSA", "ECDSA"};
  r.min_rsa_bits = 3072;
  auto too_small = ca->issue(r);
  BOOST_REQUIRE(!too_small.ok());
  BOOST_TEST(too_small.error().message == "RSA key of 2048 bits is below the minimum of 3072");

  r.min_rsa_bits = 2048;
  CERTCTL_REQUIRE_OK(ca->issue(r));

  r.csr_pem = csr_for(crypto::key_type::ed25519, "ed.example");
  auto ed = ca->issue(r);
  BOOST_TEST(!ed.ok());
  r.allowed_key_algorithms = {};
  CERTCTL_REQUIRE_OK(ca->issue(r));
}

BOOST_AUTO_TEST_CASE(a_bad_csr_or_bad_names_are_refused_with_their_own_codes) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  issuance_request r;
  r.csr_pem = "garbage";
  auto bad = ca->issue(r);
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.error().code == issuer_errc::bad_csr));

  r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "ok.example");
  r.sans.dns = {"not valid!"};
  auto names = ca->issue(r);
  BOOST_REQUIRE(!names.ok());
  BOOST_TEST((names.error().code == issuer_errc::invalid_request));
  BOOST_TEST(names.error().message.find("not valid!") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(four_threads_issuing_fifty_certificates_each_get_unique_serials) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  issuance_request r;
  r.csr_pem = csr_for(crypto::key_type::ecdsa_p256, "busy.example", {{"busy.example"}, {}, {}, {}});
  std::vector<std::vector<std::string>> serials(4);
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto issued = ca->issue(r);
        if (issued.ok())
          serials[t].push_back(issued->serial_hex);
        else
          ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique;
  for (int t = 0; t < 4; ++t) {
    BOOST_TEST(failures[t] == 0);
    unique.insert(serials[t].begin(), serials[t].end());
  }
  BOOST_TEST(unique.size() == 200u);
}

BOOST_AUTO_TEST_CASE(a_server_certificate_is_issued_for_local_hosts) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_ok(config_in(tmp, &clock));
  auto creds = ca->issue_server_certificate({"localhost", "127.0.0.1", "::1"});
  CERTCTL_REQUIRE_OK(creds);
  BOOST_TEST(crypto::check_key_matches_certificate(creds->key_pem, creds->cert_pem).ok());
  auto info = crypto::parse_certificate(creds->cert_pem);
  BOOST_TEST(info->common_name == "localhost");
  BOOST_TEST(info->sans.dns == std::vector<std::string>{"localhost"});
  BOOST_TEST(info->sans.ip == (std::vector<std::string>{"127.0.0.1", "::1"}));
  BOOST_TEST(creds->chain_pem == ca->ca_chain_pem());
  BOOST_TEST(!ca->issue_server_certificate({}).ok());
}

BOOST_AUTO_TEST_CASE(sub_ca_mode_refuses_a_certificate_that_is_not_a_ca_naming_the_file) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto key = crypto::generate_key();
  crypto::certificate_template t;
  t.subject.common_name = "not-a-ca.example";
  t.not_before = start_us / 1'000'000;
  t.not_after = t.not_before + 86400;
  auto cert = crypto::self_sign(key->pem, t);
  BOOST_REQUIRE(cert.ok());
  certctl::test::write_text(tmp.file("leaf.pem"), cert.value());
  certctl::test::write_text(tmp.file("leaf.key"), key->pem);

  local_ca_config c;
  c.ca_cert_path = tmp.file("leaf.pem");
  c.ca_key_path = tmp.file("leaf.key");
  c.clock = &clock;
  auto ca = open_local_ca(c);
  BOOST_REQUIRE(!ca.ok());
  BOOST_TEST(ca.error().message.find(tmp.file("leaf.pem")) != std::string::npos);
  BOOST_TEST(ca.error().message.find("not a CA certificate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_configuration_is_refused_naming_the_key) {
  infra::manual_clock clock(start_us);
  local_ca_config c;
  c.clock = &clock;
  auto no_dir = open_local_ca(c);
  BOOST_REQUIRE(!no_dir.ok());
  BOOST_TEST(no_dir.error().message.find("data_dir") != std::string::npos);

  c.data_dir = "/tmp/unused";
  c.issuer_id = "../evil";
  BOOST_TEST(open_local_ca(c).error().message.find("issuer_id") != std::string::npos);
  c.issuer_id = "iss-local";
  c.ca_cert_path = "/nonexistent.pem";
  BOOST_TEST(open_local_ca(c).error().message.find("ca_key_path") != std::string::npos);
  c.ca_key_path = "/nonexistent.key";
  BOOST_TEST(open_local_ca(c).error().message.find("ca_cert_path") != std::string::npos);
  c.ca_cert_path.clear();
  c.ca_key_path.clear();
  c.pki_base_url = "ftp://x";
  BOOST_TEST(open_local_ca(c).error().message.find("pki_base_url") != std::string::npos);
}
