// The Caddy target against a real caddy (LABEL peer): admin API and HTTPS site on loopback
// ports, certificate files loaded with `tls <cert> <key>`. API mode reloads through
// POST /load (forced), file mode through `caddy reload --force`.
#define BOOST_TEST_MODULE connectors_targets_caddy
#define BOOST_TEST_NO_MAIN
#include <stdlib.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "tests/connectors/targets/peer_main.hpp"

using namespace certctl;
using namespace certctl::testing::targets;

namespace {

struct caddy_fixture {
  scratch_dir dir;
  int admin_port = free_port();
  int port = free_port();
  std::string certs = dir.path + "/certs";
  std::string caddyfile = dir.path + "/Caddyfile";
  std::unique_ptr<daemon_process> caddy;

  caddy_fixture() {
    // Caddy keeps state under HOME / XDG dirs: keep them in the scratch dir (the validate
    // and reload commands the target runs inherit them).
    ::setenv("HOME", dir.path.c_str(), 1);
    ::setenv("XDG_CONFIG_HOME", (dir.path + "/config").c_str(), 1);
    ::setenv("XDG_DATA_HOME", (dir.path + "/data").c_str(), 1);
    ::mkdir(certs.c_str(), 0755);
    const auto boot = make_certificate("boot.test");
    write_text(certs + "/site.crt", boot.cert_pem + boot.chain_pem);
    write_text(certs + "/site.key", boot.key_pem);
    write_text(caddyfile, "{\n\tadmin 127.0.0.1:" + std::to_string(admin_port) +
                              "\n\tdefault_bind 127.0.0.1\n\tskip_install_trust\n"
                              "\tauto_https disable_redirects\n\tstorage file_system " +
                              dir.path + "/storage\n}\nhttps://localhost:" + std::to_string(port) +
                              " {\n\ttls " + certs + "/site.crt " + certs +
                              "/site.key\n\trespond \"ok\"\n}\n");
    caddy = std::make_unique<daemon_process>(
        std::vector<std::string>{"caddy", "run", "--config", caddyfile}, dir.path + "/caddy.out");
    BOOST_REQUIRE_MESSAGE(wait_for_port(port) && wait_for_port(admin_port),
                          "caddy did not start: " + slurp(dir.path + "/caddy.out"));
  }

  std::string config(const std::string& mode_fields, const std::string& validated = "") const {
    return R"({"cert_dir":")" + certs + R"(",)" + mode_fields +
           R"(,"validate_command":"caddy validate --config )" +
           (validated.empty() ? caddyfile : validated) +
           R"(","post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","server_name":"localhost","timeout":"15s"}})";
  }
};

void deploy_a_then_b(caddy_fixture& f, connectors::target& t, const std::string& mode_fields) {
  BOOST_REQUIRE(t.validate().ok());
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  auto deployed_a = t.deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(deployed_a.ok(), (deployed_a.ok() ? "" : deployed_a.error().message));
  BOOST_TEST(served_fingerprint(f.port) == a.fingerprint);
  BOOST_TEST(slurp(f.certs + "/site.crt") == a.cert_pem + a.chain_pem);
  BOOST_TEST(mode_of(f.certs + "/site.key") == 0600);
  auto deployed_b = t.deploy(request_for(b));
  BOOST_REQUIRE_MESSAGE(deployed_b.ok(), (deployed_b.ok() ? "" : deployed_b.error().message));
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);
  BOOST_TEST(t.deploy(request_for(b))->unchanged);

  // The operator's validate command fails (here it reads a Caddyfile that is not there):
  // nothing is reloaded, B's files are back, and the error quotes caddy.
  auto broken = make_target("Caddy", "t-caddy", f.config(mode_fields, "/missing/Caddyfile"),
                            &loopback_guard());
  auto refused = broken->deploy(request_for(a));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(
      refused.error().message.find("validation failed: `caddy validate") != std::string::npos,
      refused.error().message);
  BOOST_TEST(refused.error().message.find("/missing/Caddyfile") != std::string::npos,
             refused.error().message);
  BOOST_TEST(slurp(f.certs + "/site.crt") == b.cert_pem + b.chain_pem);
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);

  BOOST_REQUIRE(t.rollback(deployed_b->deployment_id).ok());
  BOOST_TEST(served_fingerprint(f.port) == a.fingerprint);
  BOOST_TEST(f.caddy->running());
}

}  // namespace

BOOST_AUTO_TEST_CASE(caddy_in_api_mode_reloads_the_files_through_the_admin_api) {
  caddy_fixture f;
  const std::string fields =
      R"("mode":"api","admin_api":"http://127.0.0.1:)" + std::to_string(f.admin_port) + R"(")";
  deploy_a_then_b(f, *make_target("Caddy", "t-caddy", f.config(fields), &loopback_guard()), fields);
}

BOOST_AUTO_TEST_CASE(caddy_in_file_mode_reloads_with_the_reload_command) {
  caddy_fixture f;
  const std::string fields = R"("mode":"file","reload_command":"caddy reload --config )" +
                             f.caddyfile + " --address 127.0.0.1:" + std::to_string(f.admin_port) +
                             R"( --force")";
  deploy_a_then_b(f, *make_target("Caddy", "t-caddy", f.config(fields), &loopback_guard()), fields);
}

BOOST_AUTO_TEST_CASE(an_admin_api_the_guard_refuses_fails_validate) {
  caddy_fixture f;
  auto t = make_target(
      "Caddy", "t-caddy",
      f.config(R"("admin_api":"http://127.0.0.1:)" + std::to_string(f.admin_port) + R"(")"),
      nullptr);
  auto v = t->validate();
  BOOST_REQUIRE(!v.ok());
  BOOST_TEST(v.error().message.find("refused_address") != std::string::npos, v.error().message);
  BOOST_CHECK_THROW(make_target("Caddy", "t", R"({"cert_dir":"/x","cert_file":"../etc/passwd"})",
                                &loopback_guard()),
                    std::runtime_error);
}

CERTCTL_TARGET_PEER_MAIN("caddy")
