// The agent end to end with real Caddy, Postfix and Dovecot daemons (issue 12, LABEL peer), in
// the flow of agent_deploy_flow.hpp: issued through the API, the agent makes the key and
// deploys, the daemon serves the new certificate (Caddy over HTTPS, reloaded through its admin
// API's POST /load or with `caddy reload --force`; Postfix over SMTP STARTTLS; Dovecot over
// IMAPS and IMAP STARTTLS), a renewal is redeployed, a failing validate command leaves the
// old certificate serving and the job Failed with the validator's words. Ports 56750-56769.
// A daemon missing: exit 77 (a failure under CI=true).
#define BOOST_TEST_MODULE integration_agent_services
#define BOOST_TEST_NO_MAIN
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include <boost/test/unit_test.hpp>

#include "tests/integration/agent_deploy_flow.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
namespace fs = std::filesystem;

namespace {

int daemon_port() {
  return port_in(56750, 56769);
}

/// Caddy with a Caddyfile naming the certificate files; `api`: reloaded through the admin
/// API (POST /load, forced), else with `caddy reload --force` (file mode).
struct caddy_daemon : tls_daemon {
  caddy_daemon(const std::string& dir, bool api_mode)
      : tls_daemon(dir, daemon_port()), api(api_mode), admin_port(daemon_port()) {
    // Caddy keeps state under HOME / XDG dirs: in the daemon's folder, for the daemon and for
    // the agent's validate and reload commands (it inherits this environment).
    ::setenv("HOME", prefix.c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", (prefix + "/config").c_str(), 1);
    ::setenv("XDG_DATA_HOME", (prefix + "/data").c_str(), 1);
    tt::write_text(cert_file(), boot.cert_pem + boot.chain_pem);
    tt::write_text(key_file(), boot.key_pem);
    tt::write_text(caddyfile(),
                   "{\n\tadmin 127.0.0.1:" + std::to_string(admin_port) +
                       "\n\tdefault_bind 127.0.0.1\n\tskip_install_trust\n"
                       "\tauto_https disable_redirects\n\tstorage file_system " +
                       prefix + "/storage\n}\nhttps://localhost:" + std::to_string(port) +
                       " {\n\ttls " + cert_file() + " " + key_file() + "\n\trespond \"ok\"\n}\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"caddy", "run", "--config", caddyfile()}, prefix + "/daemon.out");
    started(prefix + "/daemon.out");
    BOOST_REQUIRE(tt::wait_for_port(admin_port));
  }
  std::string type() const override { return "Caddy"; }
  std::string caddyfile() const { return prefix + "/Caddyfile"; }
  std::string target_config(const std::string& validate) const override {
    const std::string admin = "127.0.0.1:" + std::to_string(admin_port);
    const std::string mode = api ? R"("mode":"api","admin_api":"http://)" + admin + R"(")"
                                 : R"("mode":"file","reload_command":"caddy reload --config )" +
                                       caddyfile() + " --address " + admin + R"( --force")";
    return R"({"cert_dir":")" + certs() + R"(",)" + mode + R"(,"validate_command":")" +
           (validate.empty() ? "caddy validate --config " + caddyfile() : validate) + R"(",)" +
           verify() + "}";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "caddy validate --config " + missing;
  }
  std::string key_file() const override { return certs() + "/site.key"; }
  std::string cert_file() const override { return certs() + "/site.crt"; }

  bool api;
  int admin_port;
};

/// Postfix with its own config, queue and data directories: smtpd with STARTTLS on `port`.
struct postfix_daemon : tls_daemon {
  explicit postfix_daemon(const std::string& dir) : tls_daemon(dir, daemon_port()) {
    fs::create_directories(conf());
    fs::create_directories(prefix + "/queue");
    fs::create_directories(prefix + "/data");
    BOOST_REQUIRE(run_command("chown postfix " + shell_quote(prefix + "/data")).exit_code == 0);
    tt::write_text(cert_file(), boot.cert_pem + boot.chain_pem);
    tt::write_text(key_file(), boot.key_pem);
    tt::write_text(conf() + "/main.cf",
                   "compatibility_level = 3.6\nqueue_directory = " + prefix +
                       "/queue\ndata_directory = " + prefix +
                       "/data\ninet_interfaces = loopback-only\ninet_protocols = ipv4\n"
                       "myhostname = mail.test\nmydestination =\n"
                       "maillog_file_prefixes = /tmp\nmaillog_file = " +
                       prefix + "/maillog\nsmtpd_tls_security_level = may\nsmtpd_tls_cert_file = " +
                       cert_file() + "\nsmtpd_tls_key_file = " + key_file() + "\n");
    // Only what an SMTP listener and a reload need; no delivery.
    tt::write_text(conf() + "/master.cf",
                   "127.0.0.1:" + std::to_string(port) +
                       " inet n - n - - smtpd\n"
                       "cleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\n"
                       "rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\n"
                       "defer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\n"
                       "proxymap unix - - n - - proxymap\nanvil unix - - n - 1 anvil\n"
                       "scache unix - - n - 1 scache\npostlog unix-dgram n - n - 1 postlogd\n"
                       "tlsmgr unix - - n 1000? 1 tlsmgr\nerror unix - - n - - error\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"postfix", "-c", conf(), "start-fg"}, prefix + "/daemon.out");
    // postfix-script checks the installation before master starts: seconds on a busy machine.
    bool up = false;
    for (int i = 0; i < 4 && !up && daemon->running(); ++i) up = tt::wait_for_port(port);
    BOOST_REQUIRE_MESSAGE(up, "postfix did not start: " << tt::slurp(prefix + "/daemon.out")
                                                        << tt::slurp(prefix + "/maillog"));
  }
  ~postfix_daemon() override { run_command("postfix -c " + shell_quote(conf()) + " abort"); }
  std::string type() const override { return "Postfix"; }
  std::string conf() const { return prefix + "/postfix"; }
  std::string served() const override {
    return fingerprint_of_output("openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                                 " -starttls smtp </dev/null");
  }
  std::string target_config(const std::string& validate) const override {
    return R"({"cert_path":")" + cert_file() + R"(","key_path":")" + key_file() +
           R"(","validate_command":")" +
           (validate.empty() ? "postfix -c " + conf() + " check" : validate) +
           R"(","reload_command":"postfix -c )" + conf() + R"( reload",)" +
           R"("post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","timeout":"20s"}})";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "postfix -c " + missing + " check";
  }
  std::string key_file() const override { return certs() + "/key.pem"; }
  std::string cert_file() const override { return certs() + "/cert.pem"; }
};

/// Dovecot with its own config and run directories: IMAPS on `port`, IMAP with STARTTLS on
/// `imap_port`. served() is the IMAPS certificate, and only when STARTTLS serves the same.
struct dovecot_daemon : tls_daemon {
  explicit dovecot_daemon(const std::string& dir)
      : tls_daemon(dir, daemon_port()), imap_port(daemon_port()) {
    fs::create_directories(prefix + "/run");
    fs::create_directories(prefix + "/state");
    tt::write_text(cert_file(), boot.cert_pem);
    tt::write_text(chain_file(), boot.chain_pem);
    tt::write_text(key_file(), boot.key_pem);
    tt::write_text(
        conf(),
        "base_dir = " + prefix + "/run\nstate_dir = " + prefix + "/state\nlog_path = " + prefix +
            "/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\nssl = yes\n"
            "ssl_cert = <" +
            cert_file() + "\nssl_key = <" + key_file() + "\nssl_ca = <" + chain_file() +
            "\nmail_location = maildir:" + prefix +
            "/mail/%u\npassdb {\n  driver = static\n  args = nopassword\n}\n"
            "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=" +
            prefix +
            "/home/%u\n}\nservice imap-login {\n  chroot =\n"
            "  inet_listener imap {\n    address = 127.0.0.1\n    port = " +
            std::to_string(imap_port) +
            "\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = " +
            std::to_string(port) + "\n    ssl = yes\n  }\n}\nservice anvil {\n  chroot =\n}\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"dovecot", "-F", "-c", conf()}, prefix + "/daemon.out");
    started(prefix + "/dovecot.log");
  }
  std::string type() const override { return "Dovecot"; }
  std::string conf() const { return prefix + "/dovecot.conf"; }
  std::string chain_file() const { return certs() + "/chain.pem"; }
  std::string served() const override {
    const std::string imaps = tt::served_fingerprint(port);
    const std::string starttls =
        fingerprint_of_output("openssl s_client -connect 127.0.0.1:" + std::to_string(imap_port) +
                              " -starttls imap </dev/null");
    return imaps == starttls ? imaps : "imaps " + imaps + " but STARTTLS " + starttls;
  }
  std::string target_config(const std::string& validate) const override {
    return R"({"cert_path":")" + cert_file() + R"(","key_path":")" + key_file() +
           R"(","chain_path":")" + chain_file() + R"(","validate_command":")" +
           (validate.empty() ? "doveconf -n -c " + conf() : validate) +
           R"(","reload_command":"doveadm -c )" + conf() + R"( reload",)" +
           R"("post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","timeout":"20s"}})";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "doveconf -n -c " + missing;
  }
  std::string key_file() const override { return certs() + "/key.pem"; }
  std::string cert_file() const override { return certs() + "/cert.pem"; }

  int imap_port;
};

}  // namespace

BOOST_AUTO_TEST_CASE(caddy_reloaded_through_its_admin_api_serves_each_deployed_certificate) {
  temp_dir dir;
  caddy_daemon caddy(daemon_dir(dir.path), true);
  deploy_through_the_agent(caddy, dir.path);
}

BOOST_AUTO_TEST_CASE(caddy_reloaded_by_command_serves_each_deployed_certificate) {
  temp_dir dir;
  caddy_daemon caddy(daemon_dir(dir.path), false);
  deploy_through_the_agent(caddy, dir.path);
}

BOOST_AUTO_TEST_CASE(postfix_serves_each_deployed_certificate_over_smtp_starttls) {
  temp_dir dir;
  postfix_daemon postfix(daemon_dir(dir.path));
  deploy_through_the_agent(postfix, dir.path);
}

BOOST_AUTO_TEST_CASE(dovecot_serves_each_deployed_certificate_over_imaps_and_starttls) {
  temp_dir dir;
  dovecot_daemon dovecot(daemon_dir(dir.path));
  deploy_through_the_agent(dovecot, dir.path);
}

// Each daemon is needed: a missing one skips the whole test (77), a failure under CI=true.
int main(int argc, char* argv[]) {
  for (const char* program : {"caddy", "postfix", "dovecot", "doveadm", "doveconf"}) {
    if (!tt::have_program(program)) {
      std::cout << "SKIP: " << program << " is not installed (tools/setup.sh installs it)\n";
      return tt::skip_exit_code;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
