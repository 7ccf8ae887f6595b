// The NGINX target against a real nginx (LABEL peer): nginx runs as a child on a loopback port
// with a throwaway prefix; the target is built from the registry like the agent builds it;
// `openssl s_client` checks what nginx serves after each step.
#define BOOST_TEST_MODULE connectors_targets_nginx
#define BOOST_TEST_NO_MAIN
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "connectors/targets/common/file_target.hpp"
#include "tests/connectors/targets/peer_main.hpp"

using namespace certctl;
using namespace certctl::testing::targets;

namespace {

/// nginx on 127.0.0.1:port serving prefix/certs/{cert,key}.pem, started with a boot cert.
struct nginx_fixture {
  scratch_dir dir;
  int port = free_port();
  std::string certs = dir.path + "/certs";
  std::string conf = dir.path + "/nginx.conf";
  std::unique_ptr<daemon_process> nginx;
  std::string nginx_args = "-p " + dir.path + " -c " + conf + " -e " + dir.path + "/error.log";

  nginx_fixture() {
    ::mkdir(certs.c_str(), 0755);
    ::mkdir((dir.path + "/tmp").c_str(), 0755);
    const auto boot = make_certificate("boot.test");
    write_text(certs + "/cert.pem", boot.cert_pem + boot.chain_pem);
    write_text(certs + "/key.pem", boot.key_pem);
    const std::string& p = dir.path;
    write_text(conf,
               "daemon off;\nmaster_process on;\nuser root;\nworker_processes 1;\n"
               "pid " +
                   p + "/nginx.pid;\nerror_log " + p +
                   "/error.log;\n"
                   "events { worker_connections 32; }\n"
                   "http {\n  access_log off;\n"
                   "  client_body_temp_path " +
                   p +
                   "/tmp/body;\n"
                   "  proxy_temp_path " +
                   p +
                   "/tmp/proxy;\n"
                   "  fastcgi_temp_path " +
                   p +
                   "/tmp/fastcgi;\n"
                   "  uwsgi_temp_path " +
                   p +
                   "/tmp/uwsgi;\n"
                   "  scgi_temp_path " +
                   p +
                   "/tmp/scgi;\n"
                   "  server {\n    listen 127.0.0.1:" +
                   std::to_string(port) +
                   " ssl;\n"
                   "    server_name localhost;\n"
                   "    ssl_certificate " +
                   certs +
                   "/cert.pem;\n"
                   "    ssl_certificate_key " +
                   certs +
                   "/key.pem;\n"
                   "    location / { return 200 'ok'; }\n  }\n}\n");
    nginx = std::make_unique<daemon_process>(
        std::vector<std::string>{"nginx", "-p", p, "-c", conf, "-e", p + "/error.log"},
        p + "/nginx.out");
    BOOST_REQUIRE_MESSAGE(wait_for_port(port), "nginx did not start: " + slurp(p + "/error.log"));
  }

  std::string config(const std::string& extra = "") const {
    return R"({"cert_path":")" + certs + R"(/cert.pem","key_path":")" + certs +
           R"(/key.pem","chain_path":")" + certs + R"(/chain.pem",)" +
           R"("validate_command":"nginx -t -q )" + nginx_args + R"(",)" +
           R"("reload_command":"nginx )" + nginx_args + R"( -s reload",)" +
           R"("post_deploy_verify":{"endpoint":"127.0.0.1:)" + std::to_string(port) +
           R"(","server_name":"localhost","timeout":"15s"})" + extra + "}";
  }
  std::shared_ptr<connectors::target> target(const std::string& extra = "") const {
    return make_target("NGINX", "t-nginx", config(extra), &loopback_guard());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(nginx_serves_each_deployed_certificate_and_refuses_a_broken_one) {
  nginx_fixture f;
  auto t = f.target();
  BOOST_TEST(t->type() == "NGINX");
  BOOST_REQUIRE(t->validate().ok());
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");

  auto deployed_a = t->deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(deployed_a.ok(), (deployed_a.ok() ? "" : deployed_a.error().message));
  BOOST_TEST(!deployed_a->unchanged);
  BOOST_TEST(served_fingerprint(f.port) == a.fingerprint);
  BOOST_TEST(slurp(f.certs + "/cert.pem") == a.cert_pem + a.chain_pem);
  BOOST_TEST(slurp(f.certs + "/chain.pem") == a.chain_pem);
  BOOST_TEST(mode_of(f.certs + "/cert.pem") == 0644);
  BOOST_TEST(mode_of(f.certs + "/chain.pem") == 0644);
  BOOST_TEST(mode_of(f.certs + "/key.pem") == 0600);

  auto deployed_b = t->deploy(request_for(b));
  BOOST_REQUIRE_MESSAGE(deployed_b.ok(), (deployed_b.ok() ? "" : deployed_b.error().message));
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);
  auto v = t->verify({"mc-test", b.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid);
  BOOST_TEST(!t->verify({"mc-test", a.serial_hex})->valid);

  // Same bytes again: nothing written, nothing reloaded.
  auto again = t->deploy(request_for(b));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->unchanged);

  // A key that is not the certificate's is refused before anything is written.
  auto mismatched = request_for(make_certificate("c.test"));
  mismatched.key_pem = a.key_pem;
  auto wrong_key = t->deploy(mismatched);
  BOOST_REQUIRE(!wrong_key.ok());
  BOOST_TEST(wrong_key.error().message.find("does not belong") != std::string::npos);
  // A chain nginx cannot parse passes that check, but `nginx -t` refuses it: B keeps serving
  // and the job's error carries nginx's own words.
  auto corrupt = request_for(make_certificate("c.test"));
  corrupt.chain_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  auto refused = t->deploy(corrupt);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message.find("validation failed: `nginx -t") != std::string::npos,
             refused.error().message);
  BOOST_TEST(refused.error().message.find("PEM_read_bio_X509") != std::string::npos,
             refused.error().message);
  BOOST_TEST(refused.error().message.find("restored") != std::string::npos);
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);
  BOOST_TEST(slurp(f.certs + "/key.pem") == b.key_pem);

  // Rolling back B's deployment puts A back in service.
  BOOST_REQUIRE(t->rollback(deployed_b->deployment_id).ok());
  BOOST_TEST(served_fingerprint(f.port) == a.fingerprint);
  BOOST_TEST(f.nginx->running());
}

BOOST_AUTO_TEST_CASE(a_crash_between_files_leaves_nginx_with_the_old_set_after_recovery) {
  nginx_fixture f;
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(f.target()->deploy(request_for(a)).ok());
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    auto t = f.target();
    static_cast<connectors::targets::file_target&>(*t).after_rename = [](std::size_t i) {
      if (i == 0) ::_exit(42);  // the agent dies after writing cert.pem, before key.pem
    };
    (void)t->deploy(request_for(b));
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_REQUIRE(WEXITSTATUS(status) == 42);
  BOOST_TEST(slurp(f.certs + "/cert.pem") == b.cert_pem + b.chain_pem);
  BOOST_TEST(slurp(f.certs + "/key.pem") == a.key_pem);  // the mix a crash leaves
  // The next job (the agent restarted) repairs to A before anything else, then deploys B.
  auto t = f.target();
  auto redeploy = t->deploy(request_for(b));
  BOOST_REQUIRE_MESSAGE(redeploy.ok(), (redeploy.ok() ? "" : redeploy.error().message));
  BOOST_TEST(served_fingerprint(f.port) == b.fingerprint);
  BOOST_TEST(slurp(f.certs + "/key.pem") == b.key_pem);
}

BOOST_AUTO_TEST_CASE(verification_goes_through_the_outbound_guard) {
  nginx_fixture f;
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(f.target()->deploy(request_for(a)).ok());
  // Without CERTCTL_OUTBOUND_ALLOW_CIDRS the guard refuses loopback: the check cannot run, so
  // the deployment is rolled back and nginx reloads A again.
  auto unguarded = make_target("NGINX", "t-nginx", f.config(), nullptr);
  auto r = unguarded->deploy(request_for(b));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("refused_address") != std::string::npos, r.error().message);
  // The same guard keeps the target from confirming A after the restore, so ask until the
  // reloaded workers have taken over.
  BOOST_TEST(eventually_served(f.port, a.fingerprint) == a.fingerprint);
  BOOST_TEST(slurp(f.certs + "/key.pem") == a.key_pem);
}

BOOST_AUTO_TEST_CASE(a_config_with_traversal_or_shell_syntax_is_refused_by_the_factory) {
  nginx_fixture f;
  BOOST_CHECK_THROW(make_target("NGINX", "t", R"({"cert_path":"/etc/nginx/../x","key_path":"/k"})",
                                &loopback_guard()),
                    std::runtime_error);
  BOOST_CHECK_THROW(
      make_target("NGINX", "t",
                  R"({"cert_path":"/c","key_path":"/k","reload_command":"nginx -s reload | sh"})",
                  &loopback_guard()),
      std::runtime_error);
  BOOST_CHECK_THROW(make_target("NGINX", "t", R"({"cert_path":"/c"})", &loopback_guard()),
                    std::runtime_error);
}

CERTCTL_TARGET_PEER_MAIN("nginx")
