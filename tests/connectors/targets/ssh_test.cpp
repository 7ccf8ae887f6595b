// The SSH target (connectors/targets/ssh) against a throwaway OpenSSH server on 127.0.0.1:56201
// (LABEL peer): key and password auth, known_hosts verification (unknown and changed keys
// refused before any credential is sent, the explicit insecure option), SFTP upload with
// modes, backups and atomic renames, remote validate and reload, restore on failure,
// rollback, unchanged redeploys, a refused connection, and the config checks.
//
// Password auth needs a user with a password without touching the machine's accounts: sshd
// runs in a private mount namespace (unshare -m) where /etc/shadow is a copy whose root entry
// holds a random password's hash; outside that namespace nothing changes.
#define BOOST_TEST_MODULE connectors_ssh_target
#define BOOST_TEST_NO_MAIN
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "connectors/config_service.hpp"
#include "connectors/registry.hpp"
#include "connectors/targets/ssh/remote_safety.hpp"
#include "connectors/targets/ssh/ssh_config.hpp"
#include "connectors/targets/ssh/ssh_connector.hpp"
#include "infra/crypto/random.hpp"
#include "tests/connectors/targets/target_fixture.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using namespace certctl::connectors;
using namespace certctl::testing::targets;
using certctl::testing::command_line;
using certctl::testing::run_shell;
namespace fs = std::filesystem;

BOOST_TEST_DONT_PRINT_LOG_VALUE(certctl::connectors::connector_errc)
BOOST_TEST_DONT_PRINT_LOG_VALUE(certctl::connectors::target_location)

namespace {

constexpr int sshd_port = 56201;
constexpr int nginx_port = 56202;
constexpr int closed_port = 56209;  // in this test's range, never listened on
const net::outbound_guard loopback_allowed{{*net::parse_cidr("127.0.0.1/32")}};

void must(const std::string& command) {
  auto r = run_shell(command);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, command << ": " << r.out);
}

std::string read_text(const std::string& path) {
  return slurp(path);
}

struct sshd_fixture {
  scratch_dir dir;
  std::string password = crypto::random_hex(12);
  std::string remote = (dir.path + "/remote");
  std::unique_ptr<daemon_process> sshd;

  sshd_fixture() {
    fs::create_directories("/run/sshd");  // privilege separation directory sshd insists on
    fs::create_directories(remote);
    must(command_line("ssh-keygen",
                      {"-q", "-t", "ed25519", "-N", "", "-f", (dir.path + "/host_key")}));
    must(command_line("ssh-keygen",
                      {"-q", "-t", "ed25519", "-N", "", "-f", (dir.path + "/id_ed25519")}));
    must(command_line("ssh-keygen",
                      {"-q", "-t", "ed25519", "-N", "", "-f", (dir.path + "/other_host_key")}));
    write_text((dir.path + "/authorized_keys"), read_text((dir.path + "/id_ed25519.pub")));
    const std::string at = "[127.0.0.1]:" + std::to_string(sshd_port) + " ";
    write_text((dir.path + "/known_hosts"), at + read_text((dir.path + "/host_key.pub")));
    write_text((dir.path + "/wrong_known_hosts"),
               at + read_text((dir.path + "/other_host_key.pub")));
    write_text((dir.path + "/empty_known_hosts"), "");

    auto hash = run_shell(command_line("openssl", {"passwd", "-6", password}));
    BOOST_REQUIRE(hash.exit_code == 0);
    hash.out.pop_back();
    std::string shadow;
    std::istringstream real(read_text("/etc/shadow"));
    for (std::string line; std::getline(real, line);)
      shadow +=
          (line.rfind("root:", 0) == 0 ? "root:" + hash.out + ":19000:0:99999:7:::" : line) + "\n";
    write_text((dir.path + "/shadow"), shadow);

    write_text((dir.path + "/sshd_config"),
               "Port " + std::to_string(sshd_port) +
                   "\nListenAddress 127.0.0.1\n"
                   "HostKey " +
                   ((dir.path + "/host_key")) + "\nPidFile " + ((dir.path + "/sshd.pid")) +
                   "\nAuthorizedKeysFile " + ((dir.path + "/authorized_keys")) +
                   "\nPermitRootLogin yes\nPasswordAuthentication yes\n"
                   "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM no\n"
                   "StrictModes no\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n");
    sshd = std::make_unique<daemon_process>(
        std::vector<std::string>{"unshare", "-m", "sh", "-c",
                                 "mount --bind " +
                                     certctl::testing::shell_quote((dir.path + "/shadow")) +
                                     " /etc/shadow && exec /usr/sbin/sshd -D -e -f " +
                                     certctl::testing::shell_quote((dir.path + "/sshd_config"))},
        (dir.path + "/sshd.log"));
    BOOST_REQUIRE_MESSAGE(wait_for_port(sshd_port),
                          "sshd did not start: " << slurp(dir.path + "/sshd.log"));
  }

  events::json_object key_config() const {
    events::json_object c;
    c.set("host", "127.0.0.1")
        .set("port", sshd_port)
        .set("user", "root")
        .set("auth_method", "key")
        .set("private_key_path", (dir.path + "/id_ed25519"))
        .set("known_hosts_path", (dir.path + "/known_hosts"))
        .set("cert_path", remote + "/cert.pem")
        .set("key_path", remote + "/key.pem")
        .set("chain_path", remote + "/chain.pem")
        .set("validate_command", "openssl x509 -noout -in " + remote + "/cert.pem")
        .set("reload_command", "cp " + remote + "/cert.pem " + remote + "/served.pem")
        .set("timeout", 10);
    return c;
  }

  std::shared_ptr<target> make(const events::json_object& config, bool allow_loopback = true) {
    connector_registry registry;
    builtin_context context;
    if (allow_loopback) context.outbound = &loopback_allowed;
    BOOST_REQUIRE(register_ssh_target(registry, context).ok());
    const auto* reg = registry.find_target("SSH");
    BOOST_REQUIRE(reg != nullptr);
    BOOST_REQUIRE_MESSAGE(validate_config(reg->schema, config).ok(), config.dump());
    auto t = reg->make({"tgt-ssh", config});
    BOOST_REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
    return *t;
  }

  static deployment_request request(const test_certificate& c) { return request_for(c); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ssh_target_with_sshd, sshd_fixture)

BOOST_AUTO_TEST_CASE(key_auth_uploads_files_with_modes_reloads_and_verifies) {
  const auto cert = make_certificate("ssh-one");
  auto t = make(key_config());
  BOOST_TEST(t->location() == target_location::proxy_agent);
  BOOST_REQUIRE(t->validate().ok());
  auto d = t->deploy(request(cert));
  BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  BOOST_TEST(!d->unchanged);
  BOOST_TEST(!d->deployment_id.empty());
  BOOST_TEST(read_text(remote + "/cert.pem") == cert.cert_pem);
  BOOST_TEST(read_text(remote + "/chain.pem") == cert.chain_pem);
  BOOST_TEST(read_text(remote + "/key.pem") == cert.key_pem);
  BOOST_TEST(read_text(remote + "/served.pem") == cert.cert_pem);  // the reload ran after
  BOOST_TEST(mode_of(remote + "/cert.pem") == 0644);
  BOOST_TEST(mode_of(remote + "/key.pem") == 0600);
  for (const auto& e : fs::directory_iterator(remote))
    BOOST_TEST(e.path().string().find(".certctl-tmp.") == std::string::npos, e.path());

  auto v = t->verify({"mc-ssh", cert.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid, v->message);
  auto wrong = t->verify({"mc-ssh", "01"});
  BOOST_REQUIRE(wrong.ok());
  BOOST_TEST(!wrong->valid);

  // The same bytes again: nothing written, no reload.
  fs::remove(remote + "/served.pem");
  auto again = t->deploy(request(cert));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->unchanged);
  BOOST_TEST(!fs::exists(remote + "/served.pem"));
}

BOOST_AUTO_TEST_CASE(password_auth_deploys_with_the_chain_appended_when_no_chain_path) {
  const auto cert = make_certificate("ssh-pw");
  auto c = key_config();
  c.remove("private_key_path")
      .remove("chain_path")
      .set("auth_method", "password")
      .set("password", password);
  auto d = make(c)->deploy(request(cert));
  BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  BOOST_TEST(read_text(remote + "/cert.pem") == cert.cert_pem + cert.chain_pem);
  BOOST_TEST(!fs::exists(remote + "/chain.pem"));

  c.set("password", password + "x");
  auto refused = make(c)->deploy(request(cert));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message.find("password authentication refused") != std::string::npos,
             refused.error().message);
  BOOST_TEST(refused.error().message.find(password) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_inline_private_key_authenticates_too) {
  const auto cert = make_certificate("ssh-inline");
  auto c = key_config();
  c.remove("private_key_path").set("private_key", read_text((dir.path + "/id_ed25519")));
  auto d = make(c)->deploy(request(cert));
  BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  BOOST_TEST(read_text(remote + "/key.pem") == cert.key_pem);
}

BOOST_AUTO_TEST_CASE(a_key_that_does_not_belong_to_the_certificate_is_refused_before_upload) {
  auto mismatched = request(make_certificate("ssh-a"));
  mismatched.key_pem = make_certificate("ssh-b").key_pem;
  auto d = make(key_config())->deploy(mismatched);
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == connector_errc::invalid_request);
  BOOST_TEST(!fs::exists(remote + "/cert.pem"));
}

BOOST_AUTO_TEST_CASE(a_changed_or_unknown_host_key_is_refused_before_anything_is_written) {
  const auto cert = make_certificate("ssh-hk");
  auto c = key_config();
  c.set("known_hosts_path", (dir.path + "/wrong_known_hosts"));
  auto changed = make(c)->deploy(request(cert));
  BOOST_REQUIRE(!changed.ok());
  BOOST_TEST(changed.error().code == connector_errc::failed);
  BOOST_TEST(changed.error().message.find("does not match") != std::string::npos,
             changed.error().message);

  c.set("known_hosts_path", (dir.path + "/empty_known_hosts"));
  auto unknown = make(c)->deploy(request(cert));
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().message.find("is not in") != std::string::npos,
             unknown.error().message);
  BOOST_TEST(!fs::exists(remote + "/cert.pem"));
  // The refusals happened before authentication: sshd logged no accepted or failed login.
  BOOST_TEST(slurp(dir.path + "/sshd.log").find("Accepted") == std::string::npos,
             slurp(dir.path + "/sshd.log"));

  // The explicit opt-out accepts the unknown key.
  c.remove("known_hosts_path").set("insecure_skip_host_key_verify", true);
  auto insecure = make(c)->deploy(request(cert));
  BOOST_REQUIRE_MESSAGE(insecure.ok(), (insecure.ok() ? "" : insecure.error().message));
  BOOST_TEST(read_text(remote + "/cert.pem") == cert.cert_pem);
}

BOOST_AUTO_TEST_CASE(a_failing_validate_command_restores_the_old_files_and_reports_its_output) {
  const auto first = make_certificate("ssh-v1");
  const auto second = make_certificate("ssh-v2");
  auto c = key_config();
  BOOST_REQUIRE(make(c)->deploy(request(first)).ok());
  c.set("validate_command", "ls " + remote + "/no-such-config");
  fs::remove(remote + "/served.pem");
  auto d = make(c)->deploy(request(second));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == connector_errc::failed);
  BOOST_TEST(d.error().message.find("no-such-config") != std::string::npos, d.error().message);
  BOOST_TEST(d.error().message.find("previous files restored") != std::string::npos,
             d.error().message);
  BOOST_TEST(read_text(remote + "/cert.pem") == first.cert_pem);
  BOOST_TEST(read_text(remote + "/key.pem") == first.key_pem);
  BOOST_TEST(read_text(remote + "/chain.pem") == first.chain_pem);
  BOOST_TEST(!fs::exists(remote + "/served.pem"));  // no reload after a failed validation
}

BOOST_AUTO_TEST_CASE(a_failing_reload_restores_and_reloads_the_old_files) {
  const auto first = make_certificate("ssh-r1");
  const auto second = make_certificate("ssh-r2");
  auto c = key_config();
  BOOST_REQUIRE(make(c)->deploy(request(first)).ok());
  // Fails while the new files are in place; after the restore it would succeed, so the old
  // files end up "served" again only if the reload runs a second time... it fails again here,
  // which the message must say.
  c.set("reload_command", "false");
  auto d = make(c)->deploy(request(second));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().message.find("reload_command 'false' failed") != std::string::npos,
             d.error().message);
  BOOST_TEST(d.error().message.find("reload after restoring failed") != std::string::npos,
             d.error().message);
  BOOST_TEST(read_text(remote + "/cert.pem") == first.cert_pem);
  BOOST_TEST(read_text(remote + "/key.pem") == first.key_pem);
}

BOOST_AUTO_TEST_CASE(rollback_restores_the_files_a_deployment_replaced_and_reloads) {
  const auto first = make_certificate("ssh-b1");
  const auto second = make_certificate("ssh-b2");
  auto t = make(key_config());
  auto d1 = t->deploy(request(first));
  BOOST_REQUIRE(d1.ok());
  auto d2 = t->deploy(request(second));
  BOOST_REQUIRE(d2.ok());
  BOOST_TEST(read_text(remote + "/served.pem") == second.cert_pem);
  BOOST_REQUIRE(t->rollback(d2->deployment_id).ok());
  BOOST_TEST(read_text(remote + "/cert.pem") == first.cert_pem);
  BOOST_TEST(read_text(remote + "/key.pem") == first.key_pem);
  BOOST_TEST(read_text(remote + "/served.pem") == first.cert_pem);
  BOOST_TEST(mode_of(remote + "/key.pem") == 0600);

  // Rolling back the first deployment removes what it created (nothing was there before);
  // then the reload (cp of the certificate) has nothing to copy, and says so.
  auto emptied = t->rollback(d1->deployment_id);
  BOOST_REQUIRE(!emptied.ok());
  BOOST_TEST(
      emptied.error().message.find("files restored; reload_command failed") != std::string::npos,
      emptied.error().message);
  BOOST_TEST(!fs::exists(remote + "/cert.pem"));
  BOOST_TEST(!fs::exists(remote + "/key.pem"));

  auto bogus = t->rollback("../../etc");
  BOOST_REQUIRE(!bogus.ok());
  BOOST_TEST(bogus.error().code == connector_errc::invalid_request);
}

BOOST_AUTO_TEST_CASE(a_deployment_interrupted_between_renames_is_rolled_back_by_the_next) {
  const auto first = make_certificate("ssh-i1");
  const auto second = make_certificate("ssh-i2");
  auto t = make(key_config());
  BOOST_REQUIRE(t->deploy(request(first)).ok());
  // What an agent killed after its first rename leaves on the host: backups of every file,
  // the new certificate already in place, the old key, and the journal naming the deployment.
  const std::string id = "0000000000000001-0badcafe";
  for (const char* name : {"cert.pem", "chain.pem", "key.pem"})
    fs::copy_file(remote + "/" + name, remote + "/" + name + ".certctl-bak." + id);
  write_text(remote + "/cert.pem", second.cert_pem);
  write_text(remote + "/cert.pem.certctl-journal", id + "\n");
  fs::remove(remote + "/served.pem");

  // Redeploying the first certificate finds the journal, restores, and then has nothing to do.
  auto d = t->deploy(request(first));
  BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  BOOST_TEST(d->unchanged);
  BOOST_TEST(d->message.find("interrupted deployment " + id) != std::string::npos, d->message);
  BOOST_TEST(read_text(remote + "/cert.pem") == first.cert_pem);
  BOOST_TEST(read_text(remote + "/served.pem") == first.cert_pem);  // reloaded after restoring
  BOOST_TEST(!fs::exists(remote + "/cert.pem.certctl-journal"));
}

BOOST_AUTO_TEST_CASE(an_nginx_on_the_remote_host_serves_the_new_certificate_after_ssh_reload) {
  // The whole agentless path: files over SFTP, `nginx -t` and `nginx -s reload` over SSH, and
  // the post-deploy check reading the served leaf over TLS.
  const std::string p = dir.path;
  fs::create_directories(p + "/tmp");
  const auto boot = make_certificate("ssh-boot");
  write_text(remote + "/cert.pem", boot.cert_pem + boot.chain_pem);
  write_text(remote + "/key.pem", boot.key_pem);
  const std::string conf = p + "/nginx.conf";
  write_text(
      conf, "daemon off;\nmaster_process on;\nuser root;\nworker_processes 1;\npid " + p +
                "/nginx.pid;\nerror_log " + p +
                "/nginx-error.log;\nevents { worker_connections 16; }\n"
                "http {\n  access_log off;\n  client_body_temp_path " +
                p + "/tmp/body;\n  proxy_temp_path " + p + "/tmp/proxy;\n  fastcgi_temp_path " + p +
                "/tmp/fastcgi;\n  uwsgi_temp_path " + p + "/tmp/uwsgi;\n  scgi_temp_path " + p +
                "/tmp/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(nginx_port) +
                " ssl;\n    ssl_certificate " + remote + "/cert.pem;\n    ssl_certificate_key " +
                remote + "/key.pem;\n    location / { return 200 'ok'; }\n  }\n}\n");
  daemon_process nginx({"nginx", "-p", p, "-c", conf, "-e", p + "/nginx-error.log"},
                       p + "/nginx.out");
  BOOST_REQUIRE_MESSAGE(wait_for_port(nginx_port), slurp(p + "/nginx-error.log"));
  BOOST_REQUIRE(served_fingerprint(nginx_port) == boot.fingerprint);

  const std::string args = "-p " + p + " -c " + conf + " -e " + p + "/nginx-error.log";
  auto c = key_config();
  c.remove("chain_path")
      .set("validate_command", "nginx -t -q " + args)
      .set("reload_command", "nginx " + args + " -s reload")
      .set_raw("post_deploy_verify", "{\"endpoint\":\"127.0.0.1:" + std::to_string(nginx_port) +
                                         "\",\"server_name\":\"localhost\",\"timeout\":\"20s\"}");
  auto t = make(c);
  const auto fresh = make_certificate("ssh-nginx");
  auto d = t->deploy(request(fresh));
  BOOST_REQUIRE_MESSAGE(d.ok(), (d.ok() ? "" : d.error().message));
  BOOST_TEST(served_fingerprint(nginx_port) == fresh.fingerprint);
  auto v = t->verify({"mc", fresh.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid, v->message);

  // A check that cannot see the new certificate (the endpoint is sshd: no TLS there) fails
  // the deployment, and the previous files come back and are served again.
  c.set_raw("post_deploy_verify",
            "{\"endpoint\":\"127.0.0.1:" + std::to_string(sshd_port) + "\",\"timeout\":\"1s\"}");
  auto bad = make(c)->deploy(request(make_certificate("ssh-unseen")));
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("verification failed") != std::string::npos,
             bad.error().message);
  BOOST_TEST(read_text(remote + "/cert.pem") == fresh.cert_pem + fresh.chain_pem);
  // nginx reloads asynchronously: old workers may answer for a moment after the restore's
  // reload returned, so wait (bounded) for the restored certificate to be served.
  std::string served;
  for (int i = 0; i < 100 && served != fresh.fingerprint; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    served = served_fingerprint(nginx_port);
  }
  BOOST_TEST(served == fresh.fingerprint);
}

BOOST_AUTO_TEST_CASE(backups_are_pruned_to_the_configured_generations) {
  auto c = key_config();
  c.set("backups", 2);
  auto t = make(c);
  for (int i = 0; i < 4; ++i)
    BOOST_REQUIRE(t->deploy(request(make_certificate("ssh-p" + std::to_string(i)))).ok());
  int cert_backups = 0;
  for (const auto& e : fs::directory_iterator(remote))
    if (e.path().filename().string().rfind("cert.pem.certctl-bak.", 0) == 0) ++cert_backups;
  BOOST_TEST(cert_backups == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ssh_target_without_sshd)

BOOST_AUTO_TEST_CASE(a_refused_connection_is_a_clear_unavailable_error) {
  connector_registry registry;
  builtin_context context;
  context.outbound = &loopback_allowed;
  BOOST_REQUIRE(register_ssh_target(registry, context).ok());
  events::json_object c;
  c.set("host", "127.0.0.1")
      .set("port", closed_port)
      .set("user", "root")
      .set("password", "x")
      .set("auth_method", "password")
      .set("cert_path", "/tmp/c.pem")
      .set("key_path", "/tmp/k.pem");
  auto t = registry.find_target("SSH")->make({"tgt", c});
  BOOST_REQUIRE(t.ok());
  auto d = (*t)->validate();
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == connector_errc::unavailable);
  BOOST_TEST(d.error().message.find("refused") != std::string::npos, d.error().message);
  BOOST_TEST(d.error().message.find(std::to_string(closed_port)) != std::string::npos);

  // Without the allow-list, loopback is refused by the outbound guard before connecting.
  connector_registry strict;
  BOOST_REQUIRE(register_ssh_target(strict, builtin_context{}).ok());
  auto guarded = (*strict.find_target("SSH")->make({"tgt", c}))->validate();
  BOOST_REQUIRE(!guarded.ok());
  BOOST_TEST(guarded.error().code == connector_errc::invalid_config);
  BOOST_TEST(guarded.error().message.find("CERTCTL_OUTBOUND_ALLOW_CIDRS") != std::string::npos,
             guarded.error().message);
}

BOOST_AUTO_TEST_CASE(password_key_and_passphrase_are_sealed_at_rest_and_redacted_when_shown) {
  connector_registry registry;
  BOOST_REQUIRE(register_ssh_target(registry, builtin_context{}).ok());
  crypto::aead_key master{};
  for (std::size_t i = 0; i < master.size(); ++i) master[i] = static_cast<std::uint8_t>(i + 3);
  config_service svc(registry, master);
  events::json_object c;
  c.set("host", "10.1.2.3")
      .set("user", "deploy")
      .set("auth_method", "password")
      .set("password", "pw-s3cret-1")
      .set("passphrase", "pp-s3cret-2")
      .set("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nk-s3cret-3\n")
      .set("cert_path", "/etc/ssl/c.pem")
      .set("key_path", "/etc/ssl/k.pem");
  auto stored = svc.prepare(connector_kind::target, "SSH", "tgt-seal", c);
  BOOST_REQUIRE(stored.ok());
  const std::string text = stored->dump();
  for (const char* secret : {"pw-s3cret-1", "pp-s3cret-2", "k-s3cret-3"})
    BOOST_TEST(text.find(secret) == std::string::npos, text);
  const std::string shown = svc.redact(connector_kind::target, "SSH", *stored).dump();
  BOOST_TEST(shown.find("pw-s3cret-1") == std::string::npos);
  BOOST_TEST(shown.find(redacted_value) != std::string::npos, shown);
  BOOST_TEST(shown.find("10.1.2.3") != std::string::npos);  // not a secret: shown as given
  auto opened = svc.open(connector_kind::target, "SSH", "tgt-seal", *stored);
  BOOST_REQUIRE(opened.ok());
  BOOST_TEST(opened->str("password") == "pw-s3cret-1");
}

BOOST_AUTO_TEST_CASE(secrets_are_schema_secrets) {
  const auto schema = ssh::ssh_target_schema();
  const auto secrets = schema.secret_fields();
  for (const char* f : {"password", "private_key", "passphrase"})
    BOOST_TEST((std::find(secrets.begin(), secrets.end(), f) != secrets.end()), f);
  BOOST_TEST(secrets.size() == 3u);
}

BOOST_AUTO_TEST_CASE(configs_with_shell_metacharacters_traversal_or_lax_modes_are_refused) {
  auto base = [] {
    events::json_object c;
    c.set("host", "10.0.0.5")
        .set("user", "deploy")
        .set("private_key_path", "/k")
        .set("cert_path", "/etc/ssl/c.pem")
        .set("key_path", "/etc/ssl/k.pem");
    return c;
  };
  BOOST_TEST(ssh::parse_ssh_config(base()).ok());
  auto refused = [&](events::json_object c, const std::string& field) {
    auto r = ssh::parse_ssh_config(c);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().code == connector_errc::invalid_config);
    BOOST_TEST(r.error().message.find("config." + field) != std::string::npos, r.error().message);
  };
  refused(base().set("reload_command", "systemctl reload nginx; rm -rf /"), "reload_command");
  refused(base().set("reload_command", "echo $(id)"), "reload_command");
  refused(base().set("validate_command", "nginx -t | tee x"), "validate_command");
  refused(base().set("reload_command", "a\nb"), "reload_command");
  refused(base().set("cert_path", "/etc/ssl/../shadow"), "cert_path");
  refused(base().set("key_path", "relative/key.pem"), "key_path");
  refused(base().set("chain_path", "/etc/ssl/c.pem"), "key_path");
  refused(base().set("host", "host;id"), "host");
  refused(base().set("host", "-oProxyCommand=x"), "host");
  refused(base().set("key_mode", "0644"), "key_mode");
  refused(base().set("cert_mode", "999"), "cert_mode");
  refused(base().set("auth_method", "password"), "password");
  refused(base().remove("private_key_path"), "private_key_path");
  refused(base().set("insecure_skip_host_key_verify", true).set("known_hosts_path", "/k"),
          "insecure_skip_host_key_verify");
  refused(base().set_raw("post_deploy_verify", R"({"endpoint":"no-port-here"})"),
          "post_deploy_verify.endpoint");
  refused(base().set_raw("post_deploy_verify", R"({"endpoint":"h:443","retries":2})"),
          "post_deploy_verify.retries");
  BOOST_TEST(ssh::check_remote_command("systemctl reload nginx").ok());
  BOOST_TEST(ssh::check_remote_command("/usr/sbin/nginx -s reload -c /etc/nginx/n.conf").ok());
}

BOOST_AUTO_TEST_SUITE_END()

int main(int argc, char* argv[]) {
  for (const char* program : {"/usr/sbin/sshd", "ssh-keygen", "unshare", "openssl", "nginx"}) {
    if (have_program(program)) continue;
    std::cout << "SKIP: " << program << " is not installed (tools/setup.sh installs it)\n";
    return skip_exit_code;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
