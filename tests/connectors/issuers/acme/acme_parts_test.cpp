// The ACME client's parts that need no CA: URL and problem handling, the RFC 9773 certificate
// identifier (the RFC's own example), the DNS hook runner and the built-in HTTP-01 responder.
// The whole client runs against pebble (tests/peers/acme_client_peer_test.cpp) and against our
// own ACME server (tests/integration/acme_client_test.cpp).
#define BOOST_TEST_MODULE connectors_acme_parts
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/issuers/acme/acme_issuer.hpp"
#include "connectors/issuers/acme/challenge_solvers.hpp"
#include "infra/crypto/random.hpp"

using namespace certctl;
using namespace certctl::connectors;
using namespace certctl::connectors::acme;

namespace {

struct temp {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("certctl-acme-" + crypto::random_hex(6));
  temp() { std::filesystem::create_directories(dir); }
  ~temp() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string file(const std::string& name, const std::string& content, bool exec = false) {
    const auto p = dir / name;
    std::ofstream(p) << content;
    if (exec) std::filesystem::permissions(p, std::filesystem::perms::owner_all);
    return p.string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

int sh(const std::string& cmd) {
  return std::system(cmd.c_str());
}

acme_response response(int status, const std::string& body,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  acme_response r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_parts)

BOOST_AUTO_TEST_CASE(only_https_urls_with_a_host_are_accepted) {
  auto u = parse_https_url("https://ca.example:14000/dir");
  BOOST_REQUIRE(u.ok());
  BOOST_TEST(u->host == "ca.example");
  BOOST_TEST(u->port == 14000);
  BOOST_TEST(u->path == "/dir");
  auto d = parse_https_url("https://[::1]/acme/directory");
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->host == "[::1]");
  BOOST_TEST(d->port == 443);
  BOOST_TEST(!parse_https_url("http://ca.example/dir").ok());
  BOOST_TEST(!parse_https_url("https://user@ca.example/dir").ok());
  BOOST_TEST(!parse_https_url("https://ca.example:99999/dir").ok());
  BOOST_TEST(!parse_https_url("https:///dir").ok());
}

BOOST_AUTO_TEST_CASE(rate_limits_and_server_errors_are_transient_the_rest_are_not) {
  auto limited = problem_error(
      "ACME newOrder",
      response(429,
               R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many orders"})",
               {{"retry-after", "120"}}));
  BOOST_TEST((limited.code == issuer_errc::unavailable));
  BOOST_TEST(limited.message ==
             "ACME newOrder: HTTP 429 rateLimited: too many orders (retry after 120 s)");
  auto nonce = problem_error(
      "ACME x", response(400, R"({"type":"urn:ietf:params:acme:error:badNonce","detail":"n"})"));
  BOOST_TEST((nonce.code == issuer_errc::unavailable));
  BOOST_TEST((problem_error("x", response(503, "")).code == issuer_errc::unavailable));
  auto rejected = problem_error(
      "ACME newOrder",
      response(400, R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"no",
                        "subproblems":[{"detail":"bad.example is forbidden"}]})"));
  BOOST_TEST((rejected.code == issuer_errc::invalid_request));
  BOOST_TEST(rejected.message ==
             "ACME newOrder: HTTP 400 rejectedIdentifier: no; bad.example is forbidden");
  BOOST_TEST(
      response(200, "", {{"retry-after", "Fri, 31 Dec 1999 23:59:59 GMT"}}).retry_after_seconds() ==
      0);
}

BOOST_AUTO_TEST_CASE(the_ari_certificate_id_is_the_rfc_9773_example) {
  // RFC 9773 §4.1: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4 and serial
  // 0x0087654321 give "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
  temp t;
  const std::string d = t.dir.string();
  const int made =
      sh("cd " + d +
         " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key"
         " -out ca.pem -days 2 -subj /CN=ari-ca"
         " -addext subjectKeyIdentifier=69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4"
         " >/dev/null 2>&1"
         " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key"
         " -out leaf.csr -subj /CN=leaf >/dev/null 2>&1"
         " && printf 'authorityKeyIdentifier=keyid\\n' > ext"
         " && openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x87654321"
         " -extfile ext -out leaf.pem -days 1 >/dev/null 2>&1");
  BOOST_REQUIRE(made == 0);
  auto id = acme_issuer::ari_cert_id(t.read("leaf.pem"));
  BOOST_REQUIRE(id.ok());
  BOOST_TEST(*id == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

BOOST_AUTO_TEST_CASE(dns_hooks_get_the_reference_environment_and_no_shell) {
  temp t;
  const std::string out = (t.dir / "env.txt").string();
  const std::string script =
      t.file("present.sh",
             "#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$CERTCTL_DNS_DOMAIN\" \"$CERTCTL_DNS_FQDN\" "
             "\"$CERTCTL_DNS_VALUE\" \"$CERTCTL_DNS_TOKEN\" > " +
                 out + "\nenv | grep -c '^CERTCTL_' >> " + out + "\n",
             true);
  // A value that a shell would run is only ever data.
  const std::string trap = (t.dir / "pwned").string();
  dns_hook_env env{"example.test", "_acme-challenge.example.test", "$(touch " + trap + ")", "tok"};
  auto ran = run_dns_hook(script, env, std::chrono::seconds(30));
  BOOST_REQUIRE_MESSAGE(ran.ok(), (ran.ok() ? std::string() : ran.error()));
  BOOST_TEST(t.read("env.txt") ==
             "example.test|_acme-challenge.example.test|$(touch " + trap + ")|tok\n4\n");
  BOOST_TEST(!std::filesystem::exists(trap));
}

BOOST_AUTO_TEST_CASE(a_failing_or_hanging_hook_is_an_error_naming_it) {
  temp t;
  const std::string failing =
      t.file("fail.sh", "#!/bin/sh\necho 'zone not found' >&2\nexit 3\n", true);
  auto failed = run_dns_hook(failing, {}, std::chrono::seconds(30));
  BOOST_REQUIRE(!failed.ok());
  BOOST_TEST(failed.error() == "DNS hook " + failing + " failed (status 3): zone not found\n");
  const std::string hanging = t.file("hang.sh", "#!/bin/sh\nsleep 30\n", true);
  auto hung = run_dns_hook(hanging, {}, std::chrono::seconds(1));
  BOOST_REQUIRE(!hung.ok());
  BOOST_TEST(hung.error() == "DNS hook " + hanging + " timed out after 1 s");
  BOOST_TEST(!run_dns_hook("relative.sh", {}, std::chrono::seconds(1)).ok());
  BOOST_TEST(!run_dns_hook(t.file("plain.txt", "x"), {}, std::chrono::seconds(1)).ok());
}

BOOST_AUTO_TEST_CASE(the_http01_responder_serves_the_key_authorization_of_known_tokens) {
  // A free loopback port: bind, read it back, close, then let the responder take it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  const int port = ntohs(a.sin_port);
  auto responder = http01_responder::on("127.0.0.1", port);
  BOOST_REQUIRE(responder.ok());
  auto again = http01_responder::on("127.0.0.1", port);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST((again->get() == responder->get()));  // one per address and port
  (*responder)->add("tok_en-1", "tok_en-1.thumb");
  httplib::Client c("127.0.0.1", port);
  auto hit = c.Get("/.well-known/acme-challenge/tok_en-1");
  BOOST_REQUIRE(hit);
  BOOST_TEST(hit->status == 200);
  BOOST_TEST(hit->body == "tok_en-1.thumb");
  auto miss = c.Get("/.well-known/acme-challenge/other");
  BOOST_REQUIRE(miss);
  BOOST_TEST(miss->status == 404);
  (*responder)->remove("tok_en-1");
  BOOST_TEST(c.Get("/.well-known/acme-challenge/tok_en-1")->status == 404);
  BOOST_TEST(!is_valid_token("../etc/passwd"));
  BOOST_TEST(!webroot_present("/tmp", "../x", "v").ok());
}

BOOST_AUTO_TEST_SUITE_END()
