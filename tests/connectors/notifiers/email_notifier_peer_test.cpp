// The Email notifier against a real SMTP server (Debian's python3-aiosmtpd, smtp_server.py) on
// a loopback port, with a certificate made here: STARTTLS + AUTH PLAIN, implicit TLS + AUTH
// LOGIN, multipart text + HTML; each delivered message is read back from what the server
// stored, not from anything inside this process. Also: the pool reuses one session, a server
// without STARTTLS is refused, and the password never appears in an error.
// Without aiosmtpd the binary exits 77 (skip); CMake turns that into a failure under CI=true.
#define BOOST_TEST_MODULE connectors_email_notifier_peer
#define BOOST_TEST_NO_MAIN
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "connectors/notifiers/registrations.hpp"
#include "events/json.hpp"
#include "infra/crypto/jwk.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using namespace certctl::connectors;
namespace fs = std::filesystem;

namespace {

const char* python = "/usr/bin/python3";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh directory with a self-signed certificate for 127.0.0.1 (the trust anchor).
struct tls_dir {
  fs::path dir;
  tls_dir() {
    dir = fs::temp_directory_path() /
          ("certctl-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto r = testing::run_shell(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
        "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string());
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  }
  ~tls_dir() { fs::remove_all(dir); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

/// smtp_server.py in one mode, stopped by pid at the end.
struct smtp_server {
  tls_dir tls;
  fs::path out;
  int pid = 0;
  int port = 0;
  explicit smtp_server(const std::string& mode) {
    out = tls.dir / "spool";
    fs::create_directories(out);
    const std::string script =
        std::string(CERTCTL_SOURCE_DIR) + "/tests/connectors/notifiers/smtp_server.py";
    auto r = testing::run_shell(
        testing::command_line(
            python, {script, mode, (tls.dir / "cert.pem").string(), (tls.dir / "key.pem").string(),
                     "alerts", "s3cret-pw", out.string()}) +
        " >" + (tls.dir / "server.log").string() + " 2>&1 & echo $!");
    BOOST_REQUIRE(r.exit_code == 0);
    pid = std::stoi(r.out);
    // Waits for the server process to bind (it writes its port): process start-up, not a
    // timer under test; bounded.
    for (int i = 0; i < 200 && !fs::exists(out / "port"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_REQUIRE_MESSAGE(fs::exists(out / "port"), slurp(tls.dir / "server.log"));
    port = std::stoi(slurp(out / "port"));
  }
  ~smtp_server() {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  std::string message(int n) const { return slurp(out / ("msg-" + std::to_string(n) + ".eml")); }
  events::json_object envelope(int n) const {
    auto j = events::json_object::parse(slurp(out / ("msg-" + std::to_string(n) + ".env")));
    BOOST_REQUIRE(j.has_value());
    return *j;
  }
  int connections() const { return std::stoi(slurp(out / "connections")); }
};

struct world {
  connector_registry registry;
  world() {
    builtin_context ctx;
    static const net::outbound_guard loopback({*net::parse_cidr("127.0.0.1/32")});
    ctx.outbound = &loopback;
    // Only the notifiers: GenericCA needs a CA this test does not have.
    BOOST_REQUIRE(register_email_notifier(registry, ctx).ok());
  }
  std::shared_ptr<notifier> make(const std::string& json) {
    auto cfg = events::json_object::parse(json);
    BOOST_REQUIRE(cfg.has_value());
    BOOST_REQUIRE(validate_config(registry.find_notifier("Email")->schema, *cfg).ok());
    auto n = registry.find_notifier("Email")->make({"mail-1", *cfg});
    BOOST_REQUIRE_MESSAGE(n.ok(), (n.ok() ? std::string() : n.error().message));
    return *n;
  }
};

std::string config(const smtp_server& s, const std::string& extra) {
  return R"({"host":"127.0.0.1","port":)" + std::to_string(s.port) +
         R"(,"from_address":"certctl@example.test","username":"alerts","password":"s3cret-pw",)"
         R"("ca_bundle_path":")" +
         (s.tls.dir / "cert.pem").string() + "\"" + extra + "}";
}

notification alert() {
  notification n;
  n.channel = "Email";
  n.level = severity::warning;
  n.subject = "Certificate api.example.test expires in 14 days";
  n.body = "Certificate mc-1 (api.example.test) expires on 2027-01-01.\n.a line with a dot\n";
  n.event_type = "certificate.expiring";
  n.certificate_id = "mc-1";
  return n;
}

/// The base64 body of the MIME part of `type` in `eml`, decoded.
std::string part_text(const std::string& eml, const std::string& type) {
  auto at = eml.find("Content-Type: " + type);
  BOOST_REQUIRE(at != std::string::npos);
  auto start = eml.find("\r\n\r\n", at);
  if (start == std::string::npos) start = eml.find("\n\n", at);
  BOOST_REQUIRE(start != std::string::npos);
  std::string b64;
  for (std::size_t i = start; i < eml.size() && eml.compare(i, 2, "--") != 0; ++i)
    if (std::isalnum(static_cast<unsigned char>(eml[i])) || eml[i] == '+' || eml[i] == '/' ||
        eml[i] == '=')
      b64 += eml[i];
  std::string url = b64;
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!url.empty() && url.back() == '=') url.pop_back();
  auto decoded = crypto::base64url_decode(url);
  BOOST_REQUIRE(decoded.has_value());
  return *decoded;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(email_peer)

BOOST_AUTO_TEST_CASE(starttls_with_auth_plain_delivers_a_multipart_message_read_back) {
  smtp_server server("starttls");
  world w;
  auto n = w.make(config(server, R"(,"recipients":["ops@example.test"])"));
  auto msg = alert();
  msg.html_body = "<p>Certificate <b>mc-1</b> expires in 14 days</p>";
  auto sent = n->send(msg);
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));

  const auto env = server.envelope(1);
  BOOST_TEST(env.str("mail_from") == "certctl@example.test");
  BOOST_TEST(env.str_array("rcpt_tos") == std::vector<std::string>{"ops@example.test"});
  BOOST_TEST(env.boolean("authenticated"));
  BOOST_TEST(env.str("login") == "alerts");
  BOOST_TEST(env.boolean("tls"));
  BOOST_TEST(slurp(server.out / "auth-mechanisms") == "PLAIN\n");
  const std::string eml = server.message(1);
  BOOST_TEST(eml.find("Subject: Certificate api.example.test expires in 14 days") !=
             std::string::npos);
  BOOST_TEST(eml.find("Content-Type: multipart/alternative") != std::string::npos);
  BOOST_TEST(eml.find("Message-ID: <" + sent->message_id + ">") != std::string::npos);
  BOOST_TEST(part_text(eml, "text/plain") == msg.body);
  BOOST_TEST(part_text(eml, "text/html") == msg.html_body);
}

BOOST_AUTO_TEST_CASE(implicit_tls_with_auth_login_and_the_notifications_own_recipients) {
  smtp_server server("implicit");
  world w;
  auto n = w.make(config(server, R"(,"tls_mode":"implicit")"));
  auto msg = alert();
  msg.recipient = "a@example.test, b@example.test";
  msg.subject = "Zertifikat läuft ab";
  auto sent = n->send(msg);
  BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  const auto env = server.envelope(1);
  BOOST_TEST(env.str_array("rcpt_tos") ==
             (std::vector<std::string>{"a@example.test", "b@example.test"}));
  BOOST_TEST(env.boolean("tls"));
  const std::string eml = server.message(1);
  BOOST_TEST(eml.find("Subject: =?UTF-8?B?" + crypto::base64_encode("Zertifikat läuft ab") +
                      "?=") != std::string::npos);
  BOOST_TEST(eml.find("multipart") == std::string::npos);  // text only
  BOOST_TEST(part_text(eml, "text/plain") == msg.body);
}

BOOST_AUTO_TEST_CASE(the_pool_reuses_one_session_for_consecutive_messages) {
  smtp_server server("starttls");
  world w;
  auto n = w.make(config(server, R"(,"recipients":["ops@example.test"],"pool_size":1)"));
  for (int i = 0; i < 3; ++i) {
    auto sent = n->send(alert());
    BOOST_REQUIRE_MESSAGE(sent.ok(), (sent.ok() ? std::string() : sent.error().message));
  }
  BOOST_TEST(server.connections() == 1);
  BOOST_TEST(fs::exists(server.out / "msg-3.eml"));
}

BOOST_AUTO_TEST_CASE(concurrent_senders_share_a_bounded_pool) {
  smtp_server server("starttls");
  world w;
  auto n = w.make(config(server, R"(,"recipients":["ops@example.test"],"pool_size":2)"));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      if (n->send(alert()).ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(ok.load() == 6);
  BOOST_TEST(server.connections() <= 2);
  BOOST_TEST(fs::exists(server.out / "msg-6.eml"));
}

BOOST_AUTO_TEST_CASE(a_wrong_password_fails_without_showing_it) {
  smtp_server server("starttls");
  world w;
  std::string cfg = config(server, R"(,"recipients":["ops@example.test"])");
  cfg.replace(cfg.find("s3cret-pw"), 9, "wrong-pw-42");
  auto n = w.make(cfg);
  auto sent = n->send(alert());
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(static_cast<int>(sent.error().code) == static_cast<int>(connector_errc::failed));
  BOOST_TEST(sent.error().message.find("AUTH") != std::string::npos);
  BOOST_TEST(sent.error().message.find("wrong-pw-42") == std::string::npos);
  BOOST_TEST(sent.error().message.find(crypto::base64_encode(
                 std::string(1, '\0') + "alerts" + '\0' + "wrong-pw-42")) == std::string::npos);
  BOOST_TEST(!fs::exists(server.out / "msg-1.eml"));
}

BOOST_AUTO_TEST_CASE(a_server_without_starttls_is_refused_before_any_credential) {
  smtp_server server("nostarttls");
  world w;
  auto n = w.make(config(server, R"(,"recipients":["ops@example.test"])"));
  auto sent = n->send(alert());
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(sent.error().message.find("STARTTLS") != std::string::npos);
  BOOST_TEST(!fs::exists(server.out / "auth-mechanisms"));
  BOOST_TEST(!fs::exists(server.out / "msg-1.eml"));
}

BOOST_AUTO_TEST_CASE(an_untrusted_server_certificate_is_refused) {
  smtp_server server("starttls");
  tls_dir other;  // a different self-signed certificate: not the server's
  world w;
  std::string cfg = config(server, R"(,"recipients":["ops@example.test"])");
  const std::string bundle = (server.tls.dir / "cert.pem").string();
  cfg.replace(cfg.find(bundle), bundle.size(), (other.dir / "cert.pem").string());
  auto sent = w.make(cfg)->send(alert());
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(!fs::exists(server.out / "auth-mechanisms"));
}

BOOST_AUTO_TEST_CASE(loopback_is_refused_unless_the_outbound_policy_allows_it) {
  smtp_server server("starttls");
  connector_registry registry;
  BOOST_REQUIRE(register_email_notifier(registry, builtin_context{}).ok());
  auto cfg = events::json_object::parse(config(server, R"(,"recipients":["o@example.test"])"));
  auto n = registry.find_notifier("Email")->make({"mail-2", *cfg});
  BOOST_REQUIRE(n.ok());
  auto sent = (*n)->send(alert());
  BOOST_REQUIRE(!sent.ok());
  BOOST_TEST(static_cast<int>(sent.error().code) ==
             static_cast<int>(connector_errc::invalid_config));
  BOOST_TEST(!fs::exists(server.out / "connections"));
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char* argv[]) {
  if (testing::run_shell(std::string(python) + " -c 'import aiosmtpd' 2>/dev/null").exit_code !=
      0) {
    std::cout << "SKIP: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)\n";
    return 77;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
