// The Postfix and Dovecot targets (connectors/targets/mail) against the real daemons (LABEL
// peer): a throwaway Postfix (`postfix -c DIR start-fg`, SMTP on 127.0.0.1:56210) and Dovecot
// (`dovecot -F -c FILE`, IMAPS on 127.0.0.1:56220, IMAP+STARTTLS on 56221), each started with
// an old certificate. The target deploys a new one, runs `postfix check` / `doveconf -n`,
// reloads, and its post-deploy check reads the served certificate (SMTP STARTTLS, implicit
// TLS); `openssl s_client` confirms independently. A failing validation keeps the old
// certificate served; rollback brings it back.
#define BOOST_TEST_MODULE connectors_mail_target
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "connectors/registry.hpp"
#include "connectors/targets/mail/mail_target.hpp"
#include "tests/connectors/targets/target_fixture.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using namespace certctl::connectors;
using namespace certctl::testing::targets;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;
namespace fs = std::filesystem;

BOOST_TEST_DONT_PRINT_LOG_VALUE(certctl::connectors::connector_errc)

namespace {

constexpr int smtp_port = 56210;
constexpr int imaps_port = 56220;
constexpr int imap_port = 56221;
const net::outbound_guard loopback_allowed{{*net::parse_cidr("127.0.0.1/32")}};

/// SHA-256 fingerprint (lower-case hex) of what 127.0.0.1:port serves, read by openssl
/// s_client with `starttls` ("" = implicit TLS); "" when nothing could be read.
std::string served_with(int port, const std::string& starttls) {
  auto r = run_shell("openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                     (starttls.empty() ? "" : " -starttls " + starttls) +
                     " </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256");
  const auto eq = r.out.find('=');
  if (r.exit_code != 0 || eq == std::string::npos) return "";
  std::string hex;
  for (const char c : r.out.substr(eq + 1))
    if (std::isxdigit(static_cast<unsigned char>(c)))
      hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return hex;
}

std::shared_ptr<target> make(const std::string& type, const events::json_object& config) {
  connector_registry registry;
  builtin_context context;
  context.outbound = &loopback_allowed;
  BOOST_REQUIRE(register_postfix_target(registry, context).ok());
  BOOST_REQUIRE(register_dovecot_target(registry, context).ok());
  const auto* reg = registry.find_target(type);
  BOOST_REQUIRE(reg != nullptr);
  auto valid = validate_config(reg->schema, config);
  BOOST_REQUIRE_MESSAGE(valid.ok(), (valid.ok() ? "" : valid.error().message));
  auto t = reg->make({"tgt-mail", config});
  BOOST_REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return *t;
}

std::string error_of(const certctl::result<deployment_result, connector_error>& r) {
  return r.ok() ? std::string() : r.error().message;
}

/// Postfix with its own config directory, queue and data directories, SMTP with STARTTLS on
/// smtp_port, serving `old` at start.
struct postfix_fixture {
  scratch_dir dir;
  std::string conf = dir.path + "/postfix";
  std::string certs = dir.path + "/certs";
  test_certificate old = make_certificate("old.mail.test");
  std::unique_ptr<daemon_process> master;

  postfix_fixture() {
    fs::create_directories(conf);
    fs::create_directories(certs);
    fs::create_directories(dir.path + "/queue");
    fs::create_directories(dir.path + "/data");
    BOOST_REQUIRE(run_shell("chown postfix " + shell_quote(dir.path + "/data")).exit_code == 0);
    write_text(certs + "/cert.pem", old.cert_pem + old.chain_pem);
    write_text(certs + "/key.pem", old.key_pem);
    write_text(conf + "/main.cf",
               "compatibility_level = 3.6\nqueue_directory = " + dir.path +
                   "/queue\ndata_directory = " + dir.path +
                   "/data\ninet_interfaces = loopback-only\ninet_protocols = ipv4\n"
                   "myhostname = mail.test\nmydestination =\n"
                   "maillog_file_prefixes = /tmp\nmaillog_file = " +
                   dir.path +
                   "/maillog\n"
                   "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = " +
                   certs + "/cert.pem\nsmtpd_tls_key_file = " + certs + "/key.pem\n");
    // Only what an SMTP listener and a reload need; no delivery.
    write_text(conf + "/master.cf",
               "127.0.0.1:" + std::to_string(smtp_port) +
                   " inet n - n - - smtpd\n"
                   "cleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n"
                   "rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\n"
                   "defer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\n"
                   "proxymap unix - - n - - proxymap\nanvil unix - - n - 1 anvil\n"
                   "scache unix - - n - 1 scache\npostlog unix-dgram n - n - 1 postlogd\n"
                   "tlsmgr unix - - n 1000? 1 tlsmgr\nerror unix - - n - - error\n");
    master = std::make_unique<daemon_process>(
        std::vector<std::string>{"postfix", "-c", conf, "start-fg"}, dir.path + "/postfix.log");
    // postfix-script checks the whole installation before master starts: seconds, more on a
    // busy machine, so the wait is repeated while the start is still under way.
    bool up = false;
    for (int i = 0; i < 4 && !up && master->running(); ++i) up = wait_for_port(smtp_port);
    BOOST_REQUIRE_MESSAGE(up, "postfix did not start: " << slurp(dir.path + "/postfix.log")
                                                        << slurp(dir.path + "/maillog"));
    BOOST_REQUIRE(served_with(smtp_port, "smtp") == old.fingerprint);
  }
  ~postfix_fixture() { run_shell("postfix -c " + shell_quote(conf) + " abort"); }

  events::json_object config() const {
    events::json_object c;
    c.set("cert_path", certs + "/cert.pem")
        .set("key_path", certs + "/key.pem")
        .set("validate_command", "postfix -c " + conf + " check")
        .set("reload_command", "postfix -c " + conf + " reload")
        .set_raw("post_deploy_verify", "{\"endpoint\":\"127.0.0.1:" + std::to_string(smtp_port) +
                                           "\",\"timeout\":\"20s\"}");
    return c;
  }
};

/// Dovecot with its own config file and run directories: IMAPS on imaps_port, IMAP with
/// STARTTLS on imap_port, serving `old` at start.
struct dovecot_fixture {
  scratch_dir dir;
  std::string conf = dir.path + "/dovecot.conf";
  std::string certs = dir.path + "/certs";
  test_certificate old = make_certificate("old.imap.test");
  std::unique_ptr<daemon_process> master;

  dovecot_fixture() {
    fs::create_directories(certs);
    fs::create_directories(dir.path + "/run");
    fs::create_directories(dir.path + "/state");
    write_text(certs + "/cert.pem", old.cert_pem);
    write_text(certs + "/chain.pem", old.chain_pem);
    write_text(certs + "/key.pem", old.key_pem);
    write_text(conf, "base_dir = " + dir.path + "/run\nstate_dir = " + dir.path +
                         "/state\nlog_path = " + dir.path +
                         "/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\nssl = yes\n"
                         "ssl_cert = <" +
                         certs + "/cert.pem\nssl_key = <" + certs + "/key.pem\nssl_ca = <" + certs +
                         "/chain.pem\n"
                         "mail_location = maildir:" +
                         dir.path +
                         "/mail/%u\n"
                         "passdb {\n  driver = static\n  args = nopassword\n}\n"
                         "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=" +
                         dir.path +
                         "/home/%u\n}\n"
                         "service imap-login {\n  chroot =\n"
                         "  inet_listener imap {\n    address = 127.0.0.1\n    port = " +
                         std::to_string(imap_port) +
                         "\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = " +
                         std::to_string(imaps_port) +
                         "\n    ssl = yes\n  }\n}\n"
                         "service anvil {\n  chroot =\n}\n");
    master = std::make_unique<daemon_process>(std::vector<std::string>{"dovecot", "-F", "-c", conf},
                                              dir.path + "/dovecot.out");
    BOOST_REQUIRE_MESSAGE(wait_for_port(imaps_port),
                          "dovecot did not start: " << slurp(dir.path + "/dovecot.out"));
    BOOST_REQUIRE(served_with(imaps_port, "") == old.fingerprint);
  }

  events::json_object config() const {
    events::json_object c;
    c.set("cert_path", certs + "/cert.pem")
        .set("key_path", certs + "/key.pem")
        .set("chain_path", certs + "/chain.pem")
        .set("validate_command", "doveconf -n -c " + conf)
        .set("reload_command", "doveadm -c " + conf + " reload")
        .set_raw("post_deploy_verify", "{\"endpoint\":\"127.0.0.1:" + std::to_string(imaps_port) +
                                           "\",\"timeout\":\"20s\"}");
    return c;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(postfix_target, postfix_fixture)

BOOST_AUTO_TEST_CASE(a_new_certificate_is_served_over_smtp_starttls_after_check_and_reload) {
  const auto fresh = make_certificate("new.mail.test");
  auto t = make("Postfix", config());
  BOOST_REQUIRE(t->validate().ok());
  auto d = t->deploy(request_for(fresh));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  BOOST_TEST(served_with(smtp_port, "smtp") == fresh.fingerprint);
  BOOST_TEST(slurp(certs + "/cert.pem") == fresh.cert_pem + fresh.chain_pem);  // chain appended
  BOOST_TEST(mode_of(certs + "/key.pem") == 0600);
  BOOST_TEST(mode_of(certs + "/cert.pem") == 0644);
  auto v = t->verify({"mc-test", fresh.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid, v->message);

  // Rolling the deployment back serves the old certificate again.
  BOOST_REQUIRE(t->rollback(d->deployment_id).ok());
  BOOST_TEST(served_with(smtp_port, "smtp") == old.fingerprint);
}

BOOST_AUTO_TEST_CASE(a_failing_check_keeps_the_old_certificate_served_and_reports_the_command) {
  const auto fresh = make_certificate("bad.mail.test");
  auto c = config();
  c.set("validate_command", "postfix -c " + dir.path + "/no-such-config check");
  auto d = make("Postfix", c)->deploy(request_for(fresh));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == connector_errc::failed);
  BOOST_TEST(d.error().message.find("no-such-config") != std::string::npos, d.error().message);
  BOOST_TEST(slurp(certs + "/cert.pem") == old.cert_pem + old.chain_pem);
  BOOST_TEST(slurp(certs + "/key.pem") == old.key_pem);
  BOOST_TEST(served_with(smtp_port, "smtp") == old.fingerprint);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(dovecot_target, dovecot_fixture)

BOOST_AUTO_TEST_CASE(a_new_certificate_is_served_over_imaps_and_imap_starttls) {
  const auto fresh = make_certificate("new.imap.test");
  auto t = make("Dovecot", config());
  BOOST_REQUIRE(t->validate().ok());
  auto d = t->deploy(request_for(fresh));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  BOOST_TEST(served_with(imaps_port, "") == fresh.fingerprint);
  BOOST_TEST(served_with(imap_port, "imap") == fresh.fingerprint);
  BOOST_TEST(slurp(certs + "/cert.pem") == fresh.cert_pem);  // chain in its own file
  BOOST_TEST(slurp(certs + "/chain.pem") == fresh.chain_pem);

  // The same bytes again: unchanged.
  auto again = t->deploy(request_for(fresh));
  BOOST_REQUIRE_MESSAGE(again.ok(), error_of(again));
  BOOST_TEST(again->unchanged);
}

BOOST_AUTO_TEST_CASE(the_post_deploy_check_speaks_imap_starttls_when_told) {
  const auto fresh = make_certificate("starttls.imap.test");
  auto c = config();
  c.set_raw("post_deploy_verify", "{\"endpoint\":\"127.0.0.1:" + std::to_string(imap_port) +
                                      "\",\"timeout\":\"20s\",\"starttls\":\"imap\"}");
  auto d = make("Dovecot", c)->deploy(request_for(fresh));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  BOOST_TEST(served_with(imap_port, "imap") == fresh.fingerprint);
}

BOOST_AUTO_TEST_CASE(mode_dovecot_on_the_postfix_type_takes_the_dovecot_dialect) {
  // With mode dovecot the check speaks implicit TLS: against the IMAPS port it succeeds (the
  // Postfix default, SMTP STARTTLS, could not read a certificate there).
  const auto fresh = make_certificate("mode.imap.test");
  auto c = config();
  c.set("mode", "dovecot");
  auto d = make("Postfix", c)->deploy(request_for(fresh));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  BOOST_TEST(served_with(imaps_port, "") == fresh.fingerprint);
}

BOOST_AUTO_TEST_CASE(starttls_none_selects_implicit_tls_whatever_the_mode) {
  // Mode postfix defaults to SMTP STARTTLS; "none" says the endpoint speaks TLS at once (as
  // smtps on 465 would), here Dovecot's IMAPS port.
  const auto fresh = make_certificate("none.imap.test");
  auto c = config();
  c.set("mode", "postfix")
      .set_raw("post_deploy_verify", "{\"endpoint\":\"127.0.0.1:" + std::to_string(imaps_port) +
                                         "\",\"timeout\":\"20s\",\"starttls\":\"none\"}");
  auto d = make("Dovecot", c)->deploy(request_for(fresh));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  BOOST_TEST(served_with(imaps_port, "") == fresh.fingerprint);
}

BOOST_AUTO_TEST_CASE(a_reload_that_fails_restores_the_old_files_and_keeps_them_served) {
  const auto fresh = make_certificate("reloadfail.imap.test");
  auto c = config();
  c.set("reload_command", "doveadm -c " + dir.path + "/missing.conf reload");
  auto d = make("Dovecot", c)->deploy(request_for(fresh));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(slurp(certs + "/cert.pem") == old.cert_pem);
  BOOST_TEST(slurp(certs + "/key.pem") == old.key_pem);
  BOOST_TEST(served_with(imaps_port, "") == old.fingerprint);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mail_target_config)

BOOST_AUTO_TEST_CASE(bad_modes_paths_and_commands_are_refused_naming_the_field) {
  connector_registry registry;
  BOOST_REQUIRE(register_postfix_target(registry, builtin_context{}).ok());
  const auto* reg = registry.find_target("Postfix");
  auto refused = [&](events::json_object c, const std::string& field) {
    auto t = reg->make({"t", c});
    BOOST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().code == connector_errc::invalid_config);
    BOOST_TEST(t.error().message.find("config." + field) != std::string::npos, t.error().message);
  };
  refused(events::json_object().set("mode", "exim"), "mode");
  refused(events::json_object().set("cert_path", "/etc/postfix/../shadow"), "cert_path");
  refused(events::json_object().set("key_path", "key.pem"), "key_path");
  refused(events::json_object().set("reload_command", "postfix reload; id"), "reload_command");
  refused(events::json_object().set_raw("post_deploy_verify",
                                        R"({"endpoint":"127.0.0.1:25","starttls":"pop3"})"),
          "post_deploy_verify.starttls");
  refused(events::json_object().set("chain_path", "/etc/postfix/certs/cert.pem"), "key_path");
  // Defaults alone make a valid target (paths under /etc/postfix/certs).
  BOOST_TEST(reg->make({"t", events::json_object()}).ok());
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char* argv[]) {
  for (const char* program : {"postfix", "dovecot", "doveconf", "doveadm", "openssl"}) {
    if (have_program(program)) continue;
    std::cout << "SKIP: " << program << " is not installed (tools/setup.sh installs it)\n";
    return skip_exit_code;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
