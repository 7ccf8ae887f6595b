// The HAProxy target against a real haproxy (LABEL peer), master-worker mode on a loopback
// port: once reloading with SIGUSR2 to the master (the reload command), once swapping the
// certificate over the runtime API without any reload.
#define BOOST_TEST_MODULE connectors_targets_haproxy
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include "tests/connectors/targets/peer_main.hpp"

using namespace certctl;
using namespace certctl::testing::targets;

namespace {

// After SIGUSR2 the former worker accepts for a moment next to the new one (the deploy's own
// check saw the new certificate on three connections in a row, the next one may still land
// on the former worker), so what s_client sees is asked again until it settles.
struct haproxy_fixture {
  scratch_dir dir;
  int port = free_port();
  std::string pem = dir.path + "/site.pem";
  std::string cfg = dir.path + "/haproxy.cfg";
  std::string sock = dir.path + "/admin.sock";
  std::unique_ptr<daemon_process> haproxy;

  haproxy_fixture() {
    const auto boot = make_certificate("boot.test");
    write_text(pem, boot.cert_pem + boot.chain_pem + boot.key_pem);
    write_text(cfg, "global\n  stats socket " + sock +
                        " mode 600 level admin\n"
                        "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n"
                        "  timeout server 5s\n"
                        "frontend fe\n  bind 127.0.0.1:" +
                        std::to_string(port) + " ssl crt " + pem +
                        "\n  http-request return status 200 content-type text/plain string ok\n");
    haproxy = std::make_unique<daemon_process>(
        std::vector<std::string>{"haproxy", "-W", "-db", "-f", cfg}, dir.path + "/haproxy.out");
    BOOST_REQUIRE_MESSAGE(wait_for_port(port),
                          "haproxy did not start: " + slurp(dir.path + "/haproxy.out"));
  }

  std::string config(const std::string& reload) const {
    return R"({"pem_path":")" + pem + R"(","validate_command":"haproxy -c -f )" + cfg + R"(",)" +
           reload + R"(,"post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","timeout":"15s"}})";
  }
};

void deploy_a_then_b(haproxy_fixture& f, connectors::target& t) {
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  auto deployed_a = t.deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(deployed_a.ok(), (deployed_a.ok() ? "" : deployed_a.error().message));
  BOOST_TEST(eventually_served(f.port, a.fingerprint) == a.fingerprint);
  BOOST_TEST(slurp(f.pem) == a.cert_pem + a.chain_pem + a.key_pem);  // cert, chain, key
  BOOST_TEST(mode_of(f.pem) == 0600);
  auto deployed_b = t.deploy(request_for(b));
  BOOST_REQUIRE_MESSAGE(deployed_b.ok(), (deployed_b.ok() ? "" : deployed_b.error().message));
  BOOST_TEST(eventually_served(f.port, b.fingerprint) == b.fingerprint);
  BOOST_TEST(t.deploy(request_for(b))->unchanged);

  // `haproxy -c` refuses a chain it cannot parse: B keeps serving, the error quotes haproxy.
  auto corrupt = request_for(make_certificate("c.test"));
  corrupt.chain_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto refused = t.deploy(corrupt);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message.find("validation failed: `haproxy -c") != std::string::npos,
             refused.error().message);
  BOOST_TEST(refused.error().message.find(f.pem) != std::string::npos, refused.error().message);
  BOOST_TEST(eventually_served(f.port, b.fingerprint) == b.fingerprint);
  BOOST_TEST(slurp(f.pem) == b.cert_pem + b.chain_pem + b.key_pem);

  BOOST_REQUIRE(t.rollback(deployed_b->deployment_id).ok());
  BOOST_TEST(eventually_served(f.port, a.fingerprint) == a.fingerprint);
  BOOST_TEST(f.haproxy->running());
}

}  // namespace

BOOST_AUTO_TEST_CASE(haproxy_reloaded_by_signal_serves_each_deployed_certificate) {
  haproxy_fixture f;
  auto t = make_target(
      "HAProxy", "t-haproxy",
      f.config(R"("reload_command":"kill -USR2 )" + std::to_string(f.haproxy->pid()) + R"(")"),
      &loopback_guard());
  deploy_a_then_b(f, *t);
}

BOOST_AUTO_TEST_CASE(haproxy_takes_each_certificate_over_the_runtime_api_without_reload) {
  haproxy_fixture f;
  auto t = make_target("HAProxy", "t-haproxy", f.config(R"("runtime_api":")" + f.sock + R"(")"),
                       &loopback_guard());
  deploy_a_then_b(f, *t);
  // No reload happened: the master never forked a second worker.
  const std::string log = slurp(f.dir.path + "/haproxy.out");
  BOOST_TEST(log.find("Reexecuting Master") == std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(runtime_api_and_reload_command_together_are_refused) {
  BOOST_CHECK_THROW(
      make_target("HAProxy", "t",
                  R"({"pem_path":"/x/site.pem","runtime_api":"/x/s.sock","reload_command":"true"})",
                  &loopback_guard()),
      std::runtime_error);
}

CERTCTL_TARGET_PEER_MAIN("haproxy")
