// The deployment primitive of file-based targets (connectors/targets/common): commands without
// a shell, the atomic file set with backups and crash recovery, and the file_target
// orchestration (validate, reload, roll back, idempotency, per-target lock). Daemons are
// stand-ins here (sh -c scripts); the real ones are in the per-daemon tests.
#define BOOST_TEST_MODULE connectors_targets_common
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "connectors/targets/common/atomic_files.hpp"
#include "connectors/targets/common/command.hpp"
#include "connectors/targets/common/file_target.hpp"
#include "tests/connectors/targets/target_fixture.hpp"

using namespace certctl;
using namespace certctl::connectors;
using namespace certctl::connectors::targets;
using namespace certctl::testing::targets;

namespace {

/// A target writing cert+chain, key into `dir`, with shell-script stand-ins for the daemon.
struct stand_in {
  scratch_dir dir;
  std::string cert = dir.path + "/cert.pem";
  std::string key = dir.path + "/key.pem";
  std::string reloads = dir.path + "/reloads";            ///< one line per reload
  std::string validator_verdict = dir.path + "/verdict";  ///< absent: validation passes

  std::unique_ptr<file_target> make(int keep_backups = 3) {
    file_target_options o;
    o.type = "StandIn";
    o.id = "t-standin";
    o.keep_backups = keep_backups;
    o.command_timeout = std::chrono::seconds(10);
    o.validate_argv = {"sh", "-c",
                       "if [ -f " + validator_verdict + " ]; then cat " + validator_verdict +
                           "; exit 1; fi; echo config ok"};
    o.reload_argv = {"sh", "-c", "echo reload >> " + reloads};
    file_target_hooks h;
    h.paths = {cert, key};
    h.leaf_path = cert;
    const std::string c = cert, k = key;
    h.layout = [c, k](const deployment_request& r)
        -> certctl::result<std::vector<file_content>, connector_error> {
      return std::vector<file_content>{{c, leaf_and_chain(r), public_file_mode},
                                       {k, r.key_pem, private_file_mode}};
    };
    return std::make_unique<file_target>(std::move(o), std::move(h));
  }
  int reload_count() const {
    const std::string s = slurp(reloads);
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_command_with_shell_metacharacters_is_refused_naming_the_character) {
  for (const char* bad : {"nginx -t; rm -rf /", "nginx -t && true", "echo $HOME", "a | b", "x `id`",
                          "a > /etc/passwd", "echo 'q'", "a\nb"}) {
    auto r = parse_command(bad);
    BOOST_TEST_INFO(bad);
    BOOST_TEST(!r.ok());
  }
  BOOST_TEST(parse_command("nginx -t; rm").error().find("';'") != std::string::npos);
  auto ok = parse_command("  nginx  -p /tmp/x -c /tmp/x/nginx.conf -s reload ");
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->size() == 7u);
  BOOST_TEST(ok->front() == "nginx");
  BOOST_TEST(!parse_command("   ").ok());
}

BOOST_AUTO_TEST_CASE(a_command_runs_without_a_shell_and_its_output_and_exit_code_come_back) {
  auto r = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"}, std::chrono::seconds(5));
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(r.output.find("out") != std::string::npos);
  BOOST_TEST(r.output.find("err") != std::string::npos);
  BOOST_TEST(!r.succeeded());
  // An argument with shell syntax is just a string: nothing expands it.
  auto literal = run_command({"echo", "$HOME;", "`id`"}, std::chrono::seconds(5));
  BOOST_TEST(literal.output == "$HOME; `id`");
  auto missing = run_command({"/nonexistent/certctl-no-such-program"}, std::chrono::seconds(5));
  BOOST_TEST(missing.exit_code == 127);
}

BOOST_AUTO_TEST_CASE(a_command_past_its_timeout_is_killed_with_its_children) {
  scratch_dir d;
  const std::string pid_file = d.path + "/child.pid";
  auto r = run_command({"sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"},
                       std::chrono::milliseconds(500));
  BOOST_TEST(r.timed_out);
  BOOST_TEST(!r.succeeded());
  const std::string child = slurp(pid_file);
  BOOST_REQUIRE(!child.empty());
  // The background child was in the command's process group, so it got the SIGKILL too
  // (reaped by init, or a zombie until then: either way it no longer runs `sleep`).
  // SIGKILL to a group is delivered asynchronously: give the kernel a moment (bounded).
  const std::string stat_path = "/proc/" + std::to_string(std::stoi(child)) + "/stat";
  std::string state = slurp(stat_path);
  for (int i = 0; i < 100 && !state.empty() && state.find(") Z") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    state = slurp(stat_path);
  }
  BOOST_TEST((state.empty() || state.find(") Z") != std::string::npos), state);
  BOOST_TEST(r.describe({"sh"}).find("did not finish in time") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_command_that_leaves_a_daemon_holding_its_output_still_ends_when_it_exits) {
  // `apachectl graceful` on a stopped server starts one; the started daemon inherits stdout.
  auto r = run_command({"sh", "-c", "sleep 5 & echo started"}, std::chrono::seconds(3));
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(r.succeeded());
  BOOST_TEST(r.output == "started");
}

BOOST_AUTO_TEST_CASE(long_command_output_is_capped_keeping_its_end) {
  auto r = run_command({"sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done"},
                       std::chrono::seconds(10), 1024);
  BOOST_TEST(r.output.size() < 1200u);
  BOOST_TEST(r.output.find("line1999") != std::string::npos);
  BOOST_TEST(r.output.find("bytes cut]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(paths_with_traversal_or_relative_paths_are_refused) {
  BOOST_TEST(!check_target_path("etc/nginx/cert.pem").ok());
  BOOST_TEST(!check_target_path("/etc/nginx/../shadow").ok());
  BOOST_TEST(!check_target_path("/etc/./nginx/cert.pem").ok());
  BOOST_TEST(!check_target_path("/etc/nginx/").ok());
  BOOST_TEST(!check_target_path(std::string("/etc/ng\ninx")).ok());
  BOOST_TEST(check_target_path("/etc/nginx/certs/site..pem").ok());
}

BOOST_AUTO_TEST_CASE(a_file_set_writes_every_file_with_its_mode_and_keeps_n_backups) {
  scratch_dir d;
  file_set set("t1", 2);
  for (int i = 0; i < 4; ++i) {
    std::vector<file_content> files{{d.path + "/c.pem", "cert " + std::to_string(i), 0644},
                                    {d.path + "/k.pem", "key " + std::to_string(i), 0600}};
    BOOST_REQUIRE(set.begin(files, std::to_string(1000 + i)).ok());
    BOOST_REQUIRE(set.commit().ok());
    BOOST_TEST(files_identical(files));
  }
  BOOST_TEST(mode_of(d.path + "/c.pem") == 0644);
  BOOST_TEST(mode_of(d.path + "/k.pem") == 0600);
  BOOST_TEST(slurp(d.path + "/k.pem") == "key 3");
  // Two backups per file stay: those made by the last two deployments.
  BOOST_TEST(mode_of(d.path + "/k.pem.certctl-bak.1003") == 0600);
  BOOST_TEST(slurp(d.path + "/k.pem.certctl-bak.1003") == "key 2");
  BOOST_TEST(mode_of(d.path + "/k.pem.certctl-bak.1002") == 0600);
  BOOST_TEST(mode_of(d.path + "/k.pem.certctl-bak.1001") == -1);
  BOOST_TEST(mode_of(d.path + "/c.pem.certctl-bak.1000.absent") == -1);
  BOOST_TEST(mode_of(d.path + "/.certctl-t1.journal") == -1);
  // An earlier deployment can be restored from its backups.
  BOOST_REQUIRE(set.restore({d.path + "/c.pem", d.path + "/k.pem"}, "1003").ok());
  BOOST_TEST(slurp(d.path + "/c.pem") == "cert 2");
  BOOST_TEST(!set.restore({d.path + "/c.pem"}, "1000").ok());
}

BOOST_AUTO_TEST_CASE(a_target_path_that_is_a_symbolic_link_is_refused_and_left_alone) {
  scratch_dir d;
  write_text(d.path + "/real.pem", "shared");
  BOOST_REQUIRE(::symlink((d.path + "/real.pem").c_str(), (d.path + "/c.pem").c_str()) == 0);
  file_set set("t-link", 3);
  auto r = set.begin({{d.path + "/c.pem", "new", 0644}}, "4000");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().find("symbolic link") != std::string::npos);
  BOOST_TEST(slurp(d.path + "/real.pem") == "shared");
  BOOST_TEST(mode_of(d.path + "/c.pem.certctl-bak.4000") == -1);
}

BOOST_AUTO_TEST_CASE(roll_back_restores_old_files_and_removes_files_that_did_not_exist) {
  scratch_dir d;
  write_text(d.path + "/c.pem", "old cert");
  file_set set("t2", 3);
  std::vector<file_content> files{{d.path + "/c.pem", "new cert", 0644},
                                  {d.path + "/new.pem", "new file", 0600}};
  BOOST_REQUIRE(set.begin(files, "2000").ok());
  BOOST_TEST(slurp(d.path + "/c.pem") == "new cert");
  BOOST_REQUIRE(set.roll_back().ok());
  BOOST_TEST(slurp(d.path + "/c.pem") == "old cert");
  BOOST_TEST(mode_of(d.path + "/new.pem") == -1);
  BOOST_TEST(mode_of(d.path + "/c.pem.certctl-tmp.2000") == -1);
}

BOOST_AUTO_TEST_CASE(a_crash_between_two_renames_is_repaired_to_the_old_set_never_a_mix) {
  scratch_dir d;
  write_text(d.path + "/c.pem", "cert A");
  write_text(d.path + "/k.pem", "key A");
  std::vector<file_content> files{{d.path + "/c.pem", "cert B", 0644},
                                  {d.path + "/k.pem", "key B", 0600}};
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    file_set set("t3", 3);
    set.after_rename = [](std::size_t i) {
      if (i == 0) ::_exit(42);  // the process dies after the first of two renames
    };
    (void)set.begin(files, "3000");
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_REQUIRE(WEXITSTATUS(status) == 42);
  // The crash left a mix on disk and the journal that records it.
  BOOST_TEST(slurp(d.path + "/c.pem") == "cert B");
  BOOST_TEST(slurp(d.path + "/k.pem") == "key A");
  file_set set("t3", 3);
  auto recovered = set.recover(files);
  BOOST_REQUIRE(recovered.ok());
  BOOST_TEST(*recovered);
  BOOST_TEST(slurp(d.path + "/c.pem") == "cert A");
  BOOST_TEST(slurp(d.path + "/k.pem") == "key A");
  BOOST_TEST(mode_of(d.path + "/.certctl-t3.journal") == -1);
  BOOST_TEST(!*set.recover(files));
}

BOOST_AUTO_TEST_CASE(deploy_writes_validates_reloads_and_redeploying_the_same_bytes_is_unchanged) {
  stand_in s;
  auto t = s.make();
  const auto a = make_certificate("a.test");
  auto first = t->deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  BOOST_TEST(!first->unchanged);
  BOOST_TEST(!first->deployment_id.empty());
  BOOST_TEST(slurp(s.cert) == a.cert_pem + a.chain_pem);
  BOOST_TEST(slurp(s.key) == a.key_pem);
  BOOST_TEST(mode_of(s.cert) == 0644);
  BOOST_TEST(mode_of(s.key) == 0600);
  BOOST_TEST(s.reload_count() == 1);
  auto again = t->deploy(request_for(a));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->unchanged);
  BOOST_TEST(s.reload_count() == 1);  // nothing written, nothing reloaded
  auto v = t->verify({"mc-test", a.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid);
  BOOST_TEST(first->message.find(a.key_pem) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failing_validator_leaves_the_old_files_and_reports_its_output) {
  stand_in s;
  auto t = s.make();
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(t->deploy(request_for(a)).ok());
  write_text(s.validator_verdict, "emerg: cannot load certificate key on line 12");
  auto r = t->deploy(request_for(b));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("cannot load certificate key on line 12") != std::string::npos);
  BOOST_TEST(r.error().message.find("restored") != std::string::npos);
  BOOST_TEST(slurp(s.cert) == a.cert_pem + a.chain_pem);
  BOOST_TEST(slurp(s.key) == a.key_pem);
  BOOST_TEST(s.reload_count() == 1);  // the service never read B, so no reload was needed
  BOOST_TEST(!t->validate().ok());
}

BOOST_AUTO_TEST_CASE(a_failing_reload_restores_the_files_and_reloads_them_again) {
  stand_in s;
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(s.make()->deploy(request_for(a)).ok());
  file_target_options o;
  o.type = "StandIn";
  o.id = "t-standin";
  o.reload_argv = {"sh", "-c", "echo reload >> " + s.reloads + "; echo reload refused; exit 1"};
  file_target_hooks h;
  h.paths = {s.cert, s.key};
  const std::string c = s.cert, k = s.key;
  h.layout = [c, k](const deployment_request& r)
      -> certctl::result<std::vector<file_content>, connector_error> {
    return std::vector<file_content>{{c, leaf_and_chain(r), 0644}, {k, r.key_pem, 0600}};
  };
  file_target failing(o, h);
  auto r = failing.deploy(request_for(b));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("reload refused") != std::string::npos);
  BOOST_TEST(slurp(s.cert) == a.cert_pem + a.chain_pem);
  BOOST_TEST(s.reload_count() == 3);  // A's deploy, B's failed reload, the reload after restore
}

BOOST_AUTO_TEST_CASE(rollback_of_a_deployment_restores_what_was_there_before_it) {
  stand_in s;
  auto t = s.make();
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(t->deploy(request_for(a)).ok());
  auto second = t->deploy(request_for(b));
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(slurp(s.key) == b.key_pem);
  BOOST_REQUIRE(t->rollback(second->deployment_id).ok());
  BOOST_TEST(slurp(s.key) == a.key_pem);
  BOOST_TEST(slurp(s.cert) == a.cert_pem + a.chain_pem);
  BOOST_TEST(s.reload_count() == 3);
  BOOST_TEST(!t->rollback("../../etc").ok());
  BOOST_TEST(!t->rollback("12345").ok());
}

BOOST_AUTO_TEST_CASE(after_a_crash_mid_deploy_the_next_deploy_repairs_first_and_reloads) {
  stand_in s;
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(s.make()->deploy(request_for(a)).ok());
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    auto t = s.make();
    t->after_rename = [](std::size_t i) {
      if (i == 0) ::_exit(42);
    };
    (void)t->deploy(request_for(b));
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  BOOST_REQUIRE(WEXITSTATUS(status) == 42);
  BOOST_TEST(slurp(s.key) == a.key_pem);  // a mix on disk: cert B, key A
  // Deploying A again finds A's bytes after the repair, writes nothing, but reloads because
  // the service may have read the half-written set.
  auto r = s.make()->deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->unchanged);
  BOOST_TEST(slurp(s.cert) == a.cert_pem + a.chain_pem);
  BOOST_TEST(s.reload_count() == 2);
}

BOOST_AUTO_TEST_CASE(two_deploys_to_one_target_never_interleave) {
  stand_in s;
  auto t = s.make();
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  std::thread one([&] {
    for (int i = 0; i < 5; ++i) (void)t->deploy(request_for(i % 2 ? a : b));
  });
  std::thread two([&] {
    for (int i = 0; i < 5; ++i) (void)t->deploy(request_for(i % 2 ? b : a));
  });
  one.join();
  two.join();
  const std::string key = slurp(s.key), cert = slurp(s.cert);
  BOOST_TEST(((key == a.key_pem && cert == a.cert_pem + a.chain_pem) ||
              (key == b.key_pem && cert == b.cert_pem + b.chain_pem)));
  BOOST_TEST(mode_of(s.dir.path + "/.certctl-t-standin.journal") == -1);
}

BOOST_AUTO_TEST_CASE(common_options_refuse_bad_commands_and_endpoints_naming_the_field) {
  auto cfg = [](const std::string& json) { return *events::json_object::parse(json); };
  auto bad_cmd = parse_common_options(
      "NGINX", "t1", cfg(R"({"reload_command":"nginx -s reload; id"})"), "", "", nullptr);
  BOOST_REQUIRE(!bad_cmd.ok());
  BOOST_TEST(bad_cmd.error().message.find("config.reload_command") != std::string::npos);
  auto bad_endpoint = parse_common_options(
      "NGINX", "t1", cfg(R"({"post_deploy_verify":{"enabled":true,"endpoint":"nohost"}})"), "", "",
      nullptr);
  BOOST_REQUIRE(!bad_endpoint.ok());
  BOOST_TEST(bad_endpoint.error().message.find("post_deploy_verify.endpoint") != std::string::npos);
  auto good = parse_common_options(
      "NGINX", "t1",
      cfg(R"({"post_deploy_verify":{"endpoint":"127.0.0.1:8443","timeout":"5s"},"backup_retention":0})"),
      "nginx -t", "nginx -s reload", nullptr);
  BOOST_REQUIRE(good.ok());
  BOOST_TEST(good->keep_backups == 3);
  BOOST_TEST(good->verify->port == 8443);
  BOOST_TEST(good->verify->timeout.count() == 5000);
  BOOST_TEST(good->validate_argv.size() == 2u);
  auto off = parse_common_options("NGINX", "t1", cfg(R"({"validate_command":""})"), "nginx -t", "",
                                  nullptr);
  BOOST_TEST(off->validate_argv.empty());
}
