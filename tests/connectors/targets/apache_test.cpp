// The Apache httpd target against a real apache2 (LABEL peer): a self-contained config on a
// loopback port, reloaded with `apache2 -k graceful`; `openssl s_client` checks what it serves.
#define BOOST_TEST_MODULE connectors_targets_apache
#define BOOST_TEST_NO_MAIN
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "tests/connectors/targets/peer_main.hpp"

using namespace certctl;
using namespace certctl::testing::targets;

namespace {

struct apache_fixture {
  scratch_dir dir;
  int port = free_port();
  std::string certs = dir.path + "/certs";
  std::string conf = dir.path + "/httpd.conf";
  std::unique_ptr<daemon_process> httpd;

  apache_fixture() {
    ::mkdir(certs.c_str(), 0755);
    ::mkdir((dir.path + "/run").c_str(), 0755);
    const auto boot = make_certificate("boot.test");
    write_text(certs + "/cert.pem", boot.cert_pem);
    write_text(certs + "/chain.pem", boot.chain_pem);
    write_text(certs + "/key.pem", boot.key_pem);
    const std::string& p = dir.path;
    const std::string mods = "/usr/lib/apache2/modules/";
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    write_text(conf, "ServerRoot " + p + "\nServerName localhost\nListen " + listen + "\nPidFile " +
                         p + "/run/httpd.pid\nDefaultRuntimeDir " + p + "/run\nMutex file:" + p +
                         "/run default\nErrorLog " + p +
                         "/error.log\nUser www-data\nGroup www-data\n"
                         "LoadModule mpm_event_module " +
                         mods +
                         "mod_mpm_event.so\n"
                         "LoadModule authz_core_module " +
                         mods +
                         "mod_authz_core.so\n"
                         "LoadModule socache_shmcb_module " +
                         mods +
                         "mod_socache_shmcb.so\n"
                         "LoadModule ssl_module " +
                         mods +
                         "mod_ssl.so\n"
                         "SSLSessionCache shmcb:" +
                         p +
                         "/run/ssl_scache(512000)\n"
                         "<VirtualHost " +
                         listen +
                         ">\n  SSLEngine on\n"
                         "  SSLCertificateFile " +
                         certs +
                         "/cert.pem\n"
                         "  SSLCertificateChainFile " +
                         certs +
                         "/chain.pem\n"
                         "  SSLCertificateKeyFile " +
                         certs + "/key.pem\n</VirtualHost>\n");
    httpd = std::make_unique<daemon_process>(
        std::vector<std::string>{"apache2", "-f", conf, "-DFOREGROUND"}, p + "/httpd.out");
    BOOST_REQUIRE_MESSAGE(wait_for_port(port), "apache2 did not start: " + slurp(p + "/error.log") +
                                                   slurp(p + "/httpd.out"));
  }

  std::string config(const std::string& validate) const {
    return R"({"cert_path":")" + certs + R"(/cert.pem","key_path":")" + certs +
           R"(/key.pem","chain_path":")" + certs + R"(/chain.pem","validate_command":")" +
           validate + R"(","reload_command":"apache2 -k graceful -f )" + conf +
           R"(","post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","server_name":"localhost","timeout":"20s"}})";
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(
    apache_serves_each_deployed_certificate_and_a_failing_configtest_keeps_the_old) {
  apache_fixture f;
  auto t =
      make_target("Apache", "t-apache", f.config("apache2 -t -f " + f.conf), &loopback_guard());
  BOOST_REQUIRE(t->validate().ok());
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");

  auto deployed_a = t->deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(deployed_a.ok(), (deployed_a.ok() ? "" : deployed_a.error().message));
  BOOST_TEST(served_fingerprint(f.port) == a.fingerprint);
  // chain_path set: leaf and chain in their own files.
  BOOST_TEST(slurp(f.certs + "/cert.pem") == a.cert_pem);
  BOOST_TEST(slurp(f.certs + "/chain.pem") == a.chain_pem);
  BOOST_TEST(mode_of(f.certs + "/key.pem") == 0600);

  auto deployed_b = t->deploy(request_for(b));
  BOOST_REQUIRE_MESSAGE(deployed_b.ok(), (deployed_b.ok() ? "" : deployed_b.error().message));
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);
  BOOST_TEST(t->deploy(request_for(b))->unchanged);

  // The operator's configtest fails (here: it reads a config that is not there): nothing is
  // reloaded, B's files are back, and the error quotes apache2.
  auto broken =
      make_target("Apache", "t-apache", f.config("apache2 -t -f " + f.dir.path + "/missing.conf"),
                  &loopback_guard());
  auto refused = broken->deploy(request_for(a));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message.find("missing.conf") != std::string::npos,
             refused.error().message);
  BOOST_TEST(slurp(f.certs + "/cert.pem") == b.cert_pem);
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);

  BOOST_REQUIRE(t->rollback(deployed_b->deployment_id).ok());
  BOOST_TEST(served_fingerprint(f.port) == a.fingerprint);
  BOOST_TEST(f.httpd->running());
}

CERTCTL_TARGET_PEER_MAIN("apache2")
