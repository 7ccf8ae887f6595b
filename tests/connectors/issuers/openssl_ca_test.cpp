// The OpenSSL / custom CA issuer with a real `openssl ca` behind operator scripts written by
// the test: issue (the chain verifies with `openssl verify`), revoke (openssl's index records
// it), CRL self test; argv without a shell (a serial or reason that is not plain data never
// reaches the script), the timeout, the output cap, a certificate for the wrong key, and the
// threat-model path rules.
#define BOOST_TEST_MODULE connectors_openssl_ca
#include <signal.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/issuers/openssl/openssl_ca.hpp"
#include "connectors/issuers/openssl/script_runner.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/openssl_ca_scripts.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using certctl::test::temp_dir;
namespace oc = certctl::connectors::openssl_ca;
namespace t = certctl::testing;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, issuer_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::connectors

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

connectors::issuance_request request_for(const std::string& cn) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn, {{cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  connectors::issuance_request r;
  r.csr_pem = made->csr_pem;
  r.common_name = cn;
  r.sans.dns = {cn};
  r.ttl_us = 10LL * 86400 * 1000000;
  return r;
}

struct fixture {
  fixture() : ca(t::make_openssl_ca(tmp.path())) {}

  std::shared_ptr<connectors::issuer> open(oc::openssl_ca_config c) {
    auto i = oc::open_openssl_ca("iss-openssl", c);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  oc::openssl_ca_config config() const {
    oc::openssl_ca_config c;
    c.sign_script = ca.sign;
    c.revoke_script = ca.revoke;
    c.crl_script = ca.crl;
    c.ca_chain_path = ca.root_path;
    c.timeout_seconds = 20;
    return c;
  }

  temp_dir tmp;
  t::openssl_ca_dir ca;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(openssl_ca, fixture)

BOOST_AUTO_TEST_CASE(issues_through_openssl_ca_and_the_chain_verifies) {
  auto issuer = open(config());
  auto cert = issuer->issue(request_for("svc.example.test"));
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  auto info = crypto::parse_certificate(cert->cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->sans.dns == std::vector<std::string>{"svc.example.test"});
  // CERTCTL_VALIDITY_DAYS reached the script: 10 days, not openssl's default of 30.
  BOOST_TEST((info->not_after - info->not_before) / 86400 == 10);
  BOOST_TEST(contains(cert->chain_pem, "BEGIN CERTIFICATE"));
  test::write_text(tmp.file("leaf.pem"), cert->cert_pem);
  auto verified = t::run_shell("openssl verify -CAfile " + t::shell_quote(ca.root_path) + " " +
                               t::shell_quote(tmp.file("leaf.pem")));
  BOOST_TEST(verified.exit_code == 0, verified.out);
}

BOOST_AUTO_TEST_CASE(revokes_with_serial_and_reason_as_argv_and_the_crl_lists_it) {
  auto issuer = open(config());
  BOOST_TEST(issuer->capabilities().revoke);
  auto cert = issuer->issue(request_for("gone.example.test"));
  BOOST_REQUIRE(cert.ok());
  auto revoked = issuer->revoke({cert->serial_hex, "keyCompromise"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  const std::string index = slurp(ca.index_path);
  BOOST_TEST(contains(index, "R\t"), index);
  BOOST_TEST(contains(index, cert->serial_hex), index);
  auto report = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  BOOST_TEST(contains(report->message, "CRL lists 1 revoked"), report->message);
  BOOST_TEST(report->ca_not_after_us > 0);
}

BOOST_AUTO_TEST_CASE(a_serial_or_reason_that_is_not_plain_data_never_reaches_the_script) {
  auto issuer = open(config());
  for (const auto& [serial, reason] :
       std::vector<std::pair<std::string, std::string>>{{"10; touch /tmp/pwned", "unspecified"},
                                                        {"$(id)", "unspecified"},
                                                        {"1000", "keyCompromise; rm -rf /"},
                                                        {"1000", "KeyCompromise"},
                                                        {"", "unspecified"}}) {
    auto r = issuer->revoke({serial, reason});
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().code == connectors::issuer_errc::invalid_request);
  }
  BOOST_TEST(!std::filesystem::exists(ca.dir + "/revoke.args"));
}

BOOST_AUTO_TEST_CASE(a_script_past_its_timeout_is_killed) {
  auto c = config();
  c.sign_script = ca.slow;
  c.timeout_seconds = 1;
  auto cert = open(c)->issue(request_for("slow.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(cert.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(cert.error().message, "killed"), cert.error().message);
  // Killed, not waited for: the script's process is gone although it meant to sleep 30 s.
  const std::string pid = slurp(ca.dir + "/slow.pid");
  BOOST_REQUIRE(!pid.empty());
  BOOST_TEST(::kill(std::stoi(pid), 0) != 0);
}

BOOST_AUTO_TEST_CASE(output_beyond_the_cap_is_cut_and_the_script_killed) {
  oc::script_limits limits;
  limits.max_stdout = 64 * 1024;
  auto r = oc::run_script({ca.flood}, {"PATH=/usr/bin:/bin"}, {}, limits);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(static_cast<int>(r.error().code) ==
             static_cast<int>(oc::script_errc::output_too_large));
}

BOOST_AUTO_TEST_CASE(a_script_that_ignores_its_input_does_not_take_the_server_down) {
  test::write_text(ca.dir + "/deaf.sh", "#!/bin/sh\nexit 0\n");
  ::chmod((ca.dir + "/deaf.sh").c_str(), 0700);
  auto r = oc::run_script({ca.dir + "/deaf.sh"}, {"PATH=/usr/bin:/bin"},
                          std::string(4 * 1024 * 1024, 'x'), {});
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->exit_code == 0);
}

BOOST_AUTO_TEST_CASE(the_script_sees_no_server_secret_in_its_environment) {
  ::setenv("CERTCTL_TEST_SECRET_ENV", "do-not-leak", 1);
  test::write_text(ca.dir + "/env.sh", "#!/bin/sh\nenv\n");
  ::chmod((ca.dir + "/env.sh").c_str(), 0700);
  auto r = oc::run_script({ca.dir + "/env.sh"}, {"PATH=/usr/bin:/bin", "CERTCTL_OPERATION=sign"},
                          {}, {});
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(!contains(r->out, "do-not-leak"));
  BOOST_TEST(contains(r->out, "CERTCTL_OPERATION=sign"));
}

BOOST_AUTO_TEST_CASE(a_certificate_for_another_key_is_not_accepted) {
  auto c = config();
  c.sign_script = ca.wrong;
  auto cert = open(c)->issue(request_for("x.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(contains(cert.error().message, "another key"), cert.error().message);
}

BOOST_AUTO_TEST_CASE(scripts_others_could_swap_are_refused) {
  // Relative path.
  auto c = config();
  c.sign_script = "sign.sh";
  BOOST_TEST(!oc::open_openssl_ca("iss", c).ok());
  // Group-writable script.
  ::chmod(ca.sign.c_str(), 0770);
  c = config();
  auto loose = oc::open_openssl_ca("iss", c);
  BOOST_REQUIRE(!loose.ok());
  BOOST_TEST(contains(loose.error().message, "writable by group or others"));
  ::chmod(ca.sign.c_str(), 0700);
  // A directory on the path that others may write (no sticky bit).
  ::chmod(ca.dir.c_str(), 0777);
  auto open_dir = oc::open_openssl_ca("iss", c);
  BOOST_REQUIRE(!open_dir.ok());
  BOOST_TEST(contains(open_dir.error().message, "directory"), open_dir.error().message);
  ::chmod(ca.dir.c_str(), 0700);
  // A symlink is judged by what it points to: to a safe script it is fine.
  std::filesystem::create_symlink(ca.sign, tmp.file("link.sh"));
  c.sign_script = tmp.file("link.sh");
  BOOST_TEST(oc::open_openssl_ca("iss", c).ok());
  // Not executable.
  ::chmod(ca.sign.c_str(), 0600);
  BOOST_TEST(!oc::open_openssl_ca("iss", config()).ok());
  ::chmod(ca.sign.c_str(), 0700);
}

BOOST_AUTO_TEST_SUITE_END()
