// End to end with real daemons (issue 12, LABEL peer), once each for nginx, HAProxy and Apache
// (the flow and the nginx daemon: agent_deploy_flow.hpp):
// a certificate is issued through the API, certctl-agent makes its key, the server queues the
// deployment to the certificate's target, the agent deploys and `openssl s_client` sees the new
// certificate; a renewal is redeployed the same way; a broken validate command fails the job
// with the daemon's own words and leaves the previous certificate serving. A daemon missing:
// exit 77 (a failure under CI=true).
#define BOOST_TEST_MODULE integration_agent_nginx
#define BOOST_TEST_NO_MAIN
#include <signal.h>
#include <sys/stat.h>

#include <iostream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/connectors/targets/peer_main.hpp"
#include "tests/integration/agent_deploy_flow.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

/// A port of this test's own range (56710-56749).
int daemon_port() {
  return port_in(56710, 56749);
}

/// HAProxy (master-worker) serving one combined PEM; reloads with SIGUSR2 to the master.
struct haproxy_daemon : tls_daemon {
  explicit haproxy_daemon(const std::string& dir) : tls_daemon(dir, daemon_port()) {
    tt::write_text(cert_file(), boot.cert_pem + boot.chain_pem + boot.key_pem);
    tt::write_text(conf(),
                   "global\n  maxconn 64\n"
                   "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n"
                   "  timeout server 5s\n"
                   "frontend fe\n  bind 127.0.0.1:" +
                       std::to_string(port) + " ssl crt " + cert_file() +
                       "\n  http-request return status 200 content-type text/plain "
                       "string ok\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"haproxy", "-W", "-db", "-f", conf()}, prefix + "/daemon.out");
    started(prefix + "/daemon.out");
  }
  std::string type() const override { return "HAProxy"; }
  std::string conf() const { return prefix + "/haproxy.cfg"; }
  std::string target_config(const std::string& validate) const override {
    return R"({"pem_path":")" + cert_file() + R"(","validate_command":")" +
           (validate.empty() ? "haproxy -c -q -f " + conf() : validate) +
           R"(","reload_command":"kill -USR2 )" + std::to_string(daemon->pid()) + R"(",)" +
           verify() + "}";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "haproxy -c -f " + missing;
  }
  std::string key_file() const override { return cert_file(); }  // key inside the one PEM
  std::string cert_file() const override { return certs() + "/site.pem"; }
};

/// Apache httpd (self-contained config, mpm_event) serving cert, chain and key files;
/// reloads with `apache2 -k graceful`.
struct apache_daemon : tls_daemon {
  explicit apache_daemon(const std::string& dir) : tls_daemon(dir, daemon_port()) {
    tt::write_text(cert_file(), boot.cert_pem);
    tt::write_text(chain_file(), boot.chain_pem);
    tt::write_text(key_file(), boot.key_pem);
    const std::string& p = prefix;
    ::mkdir((p + "/run").c_str(), 0755);
    const std::string mods = "/usr/lib/apache2/modules/";
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    std::string modules;
    for (const char* m : {"mpm_event", "authz_core", "socache_shmcb", "ssl"})
      modules += std::string("LoadModule ") + m + "_module " + mods + "mod_" + m + ".so\n";
    tt::write_text(
        conf(), "ServerRoot " + p + "\nServerName localhost\nListen " + listen + "\nPidFile " + p +
                    "/run/httpd.pid\nDefaultRuntimeDir " + p + "/run\nMutex file:" + p +
                    "/run default\nErrorLog " + p + "/error.log\nUser www-data\nGroup www-data\n" +
                    modules + "SSLSessionCache shmcb:" + p + "/run/ssl_scache(512000)\n" +
                    "<VirtualHost " + listen + ">\n  SSLEngine on\n" + "  SSLCertificateFile " +
                    cert_file() + "\n" + "  SSLCertificateChainFile " + chain_file() + "\n" +
                    "  SSLCertificateKeyFile " + key_file() + "\n</VirtualHost>\n");
    daemon = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"apache2", "-f", conf(), "-DFOREGROUND"}, p + "/daemon.out");
    started(p + "/error.log");
  }
  std::string type() const override { return "Apache"; }
  std::string conf() const { return prefix + "/httpd.conf"; }
  std::string chain_file() const { return certs() + "/chain.pem"; }
  std::string target_config(const std::string& validate) const override {
    return R"({"cert_path":")" + cert_file() + R"(","key_path":")" + key_file() +
           R"(","chain_path":")" + chain_file() + R"(","validate_command":")" +
           (validate.empty() ? "apache2 -t -f " + conf() : validate) +
           R"(","reload_command":"apache2 -k graceful -f )" + conf() + R"(",)" + verify() + "}";
  }
  std::string validate_command_for(const std::string& missing) const override {
    return "apache2 -t -f " + missing;
  }
  std::string key_file() const override { return certs() + "/key.pem"; }
  std::string cert_file() const override { return certs() + "/cert.pem"; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_nginx) {
  temp_dir dir;
  nginx_daemon nginx(daemon_dir(dir.path), daemon_port());
  deploy_through_the_agent(nginx, dir.path);
}

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_haproxy) {
  temp_dir dir;
  haproxy_daemon haproxy(daemon_dir(dir.path));
  deploy_through_the_agent(haproxy, dir.path);
}

BOOST_AUTO_TEST_CASE(an_issued_and_a_renewed_certificate_are_deployed_to_a_real_apache) {
  temp_dir dir;
  apache_daemon apache(daemon_dir(dir.path));
  deploy_through_the_agent(apache, dir.path);
}

// Each daemon is needed: a missing one skips the whole test (77), a failure under CI=true.
int main(int argc, char* argv[]) {
  for (const char* program : {"nginx", "haproxy", "apache2"}) {
    if (!tt::have_program(program)) {
      std::cout << "SKIP: " << program << " is not installed (tools/setup.sh installs it)\n";
      return tt::skip_exit_code;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
