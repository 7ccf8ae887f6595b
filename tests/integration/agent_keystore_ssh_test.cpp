// The agent end to end with Java keystores and SSH (issue 12, LABEL peer), in the flow of
// agent_deploy_flow.hpp. JavaKeystore: PKCS12 and JKS keystores created and updated by the
// agent through keytool; `keytool -list`/`-exportcert` shows the new certificate under the
// alias after each deployment, a failing validate command leaves the old keystore byte for
// byte and the keystore password out of every message. SSH: the agent is a proxy agent that
// deploys over SFTP to a throwaway sshd on loopback (key auth, the host key checked against a
// known_hosts file), runs the remote validate and reload commands, and the nginx behind it
// serves the files. Ports 56770-56789. A program missing: exit 77 (a failure under CI=true).
#define BOOST_TEST_MODULE integration_agent_keystore_ssh
#define BOOST_TEST_NO_MAIN
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "tests/integration/agent_deploy_flow.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;
namespace fs = std::filesystem;

namespace {

int daemon_port() {
  return port_in(56770, 56789);
}

/// A keystore file the agent creates and updates; "serving" is what the alias holds.
struct keystore_file : tls_daemon {
  keystore_file(const std::string& dir, std::string store_type)
      : tls_daemon(dir, 0), kind(std::move(store_type)) {}
  std::string type() const override { return "JavaKeystore"; }
  std::string target_config(const std::string& validate) const override {
    return R"({"keystore_path":")" + cert_file() + R"(","keystore_password":")" + password +
           R"(","keystore_type":")" + kind + R"(","alias":"web-1")" +
           (validate.empty() ? "" : R"(,"validate_command":")" + validate + R"(")") + "}";
  }
  /// keytool's own complaint about a keystore that is not there. The command line carries the
  /// keystore password on purpose: the job's error and steps must show it redacted.
  std::string validate_command_for(const std::string& missing) const override {
    return "keytool -list -keystore " + missing + " -storepass " + password;
  }
  std::string key_file() const override { return cert_file(); }  // the key entry is inside
  std::string cert_file() const override {
    return certs() + (kind == "JKS" ? "/keystore.jks" : "/keystore.p12");
  }
  std::string served() const override {
    if (!fs::exists(cert_file())) return "";
    // openssl reads PKCS#12 without a JVM start; keytool -list checks it once at the end.
    if (kind == "PKCS12")
      return fingerprint_of_output("openssl pkcs12 -nokeys -clcerts -in " + cert_file() +
                                   " -passin pass:" + password);
    return fingerprint_of_output("keytool -exportcert -rfc -alias web-1 -keystore " + cert_file() +
                                 " -storetype " + kind + " -storepass " + password);
  }

  std::string kind;
  std::string password = "ks-" + certctl::testing::targets::make_certificate("pw").serial_hex;
};

/// sshd on loopback (key auth for root; its host key listed in a known_hosts file) in front of
/// an nginx whose certificate files the SSH target replaces and whose reload it runs remotely.
struct ssh_nginx : nginx_daemon {
  explicit ssh_nginx(const std::string& dir)
      : nginx_daemon(dir, daemon_port()), sshd_port(daemon_port()) {
    fs::create_directories("/run/sshd");  // the privilege separation directory sshd insists on
    for (const char* k : {"host_key", "id_ed25519"})
      must("ssh-keygen -q -t ed25519 -N '' -f " + shell_quote(prefix + "/" + k));
    tt::write_text(prefix + "/authorized_keys", tt::slurp(prefix + "/id_ed25519.pub"));
    tt::write_text(known_hosts(), "[127.0.0.1]:" + std::to_string(sshd_port) + " " +
                                      tt::slurp(prefix + "/host_key.pub"));
    // root may have no usable password entry (a locked account refuses even key logins with
    // UsePAM no): sshd sees a copy of /etc/shadow with an unlocked root, in its own mount
    // namespace only.
    std::string shadow;
    std::istringstream real(tt::slurp("/etc/shadow"));
    for (std::string line; std::getline(real, line);)
      shadow += (line.rfind("root:", 0) == 0 ? "root:*NP*:19000:0:99999:7:::" : line) + "\n";
    tt::write_text(prefix + "/shadow", shadow);
    tt::write_text(prefix + "/sshd_config",
                   "Port " + std::to_string(sshd_port) + "\nListenAddress 127.0.0.1\nHostKey " +
                       prefix + "/host_key\nPidFile " + prefix + "/sshd.pid\nAuthorizedKeysFile " +
                       prefix +
                       "/authorized_keys\nPermitRootLogin prohibit-password\n"
                       "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                       "PubkeyAuthentication yes\nUsePAM no\nStrictModes no\n"
                       "Subsystem sftp internal-sftp\n");
    sshd = std::make_unique<tt::daemon_process>(
        std::vector<std::string>{"unshare", "-m", "sh", "-c",
                                 "mount --bind " + shell_quote(prefix + "/shadow") +
                                     " /etc/shadow && exec /usr/sbin/sshd -D -e -f " +
                                     shell_quote(prefix + "/sshd_config")},
        prefix + "/sshd.log");
    BOOST_REQUIRE_MESSAGE(tt::wait_for_port(sshd_port),
                          "sshd did not start: " << tt::slurp(prefix + "/sshd.log"));
  }
  static void must(const std::string& command) {
    auto r = run_command(command + " 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, command << ": " << r.out);
  }
  std::string known_hosts() const { return prefix + "/known_hosts"; }
  std::string type() const override { return "SSH"; }
  std::string target_config(const std::string& validate) const override {
    return R"({"host":"127.0.0.1","port":)" + std::to_string(sshd_port) +
           R"(,"user":"root","auth_method":"key","private_key_path":")" + prefix +
           R"(/id_ed25519","known_hosts_path":")" + known_hosts() + R"(","cert_path":")" +
           cert_file() + R"(","key_path":")" + key_file() + R"(","validate_command":")" +
           (validate.empty() ? "nginx -t -q " + args() : validate) +
           R"(","reload_command":"nginx )" + args() + R"( -s reload","timeout":10,)" + verify() +
           "}";
  }

  int sshd_port;
  std::unique_ptr<tt::daemon_process> sshd;
};

/// The keystore flow, then what only a keystore shows: the alias lists the certificate, and
/// the keystore password appears in no job message or step.
void keystore_case(const std::string& kind) {
  temp_dir dir;
  keystore_file store(daemon_dir(dir.path), kind);
  deploy_through_the_agent(store, dir.path);
  auto listed = run_command("keytool -list -alias web-1 -keystore " + store.cert_file() +
                            " -storetype " + kind + " -storepass " + store.password + " 2>&1");
  BOOST_TEST(listed.exit_code == 0, listed.out);
  BOOST_TEST(listed.out.find("PrivateKeyEntry") != std::string::npos, listed.out);
  BOOST_TEST(tt::mode_of(store.cert_file()) == 0600);
  // The jobs' outcomes and steps never hold the password (the target's config does: it is
  // where this test put the password into a command line).
  const std::string events = tt::slurp(dir.path + "/job-events.json");
  BOOST_TEST(events.find("[redacted]") != std::string::npos);
  BOOST_TEST(events.find(store.password) == std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_pkcs12_keystore_holds_each_deployed_certificate_under_its_alias) {
  keystore_case("PKCS12");
}

BOOST_AUTO_TEST_CASE(a_jks_keystore_holds_each_deployed_certificate_under_its_alias) {
  keystore_case("JKS");
}

BOOST_AUTO_TEST_CASE(a_proxy_agent_deploys_over_sftp_and_the_nginx_behind_sshd_serves_it) {
  temp_dir dir;
  ssh_nginx remote(daemon_dir(dir.path));
  deploy_through_the_agent(remote, dir.path);
  // The "remote" side: the files the SFTP upload replaced, with the modes the target sets,
  // and no temporary or journal file left behind.
  BOOST_TEST(tt::mode_of(remote.cert_file()) == 0644);
  BOOST_TEST(tt::mode_of(remote.key_file()) == 0600);
  for (const auto& e : fs::directory_iterator(remote.certs())) {
    const std::string name = e.path().filename().string();
    BOOST_TEST(name.find("certctl-tmp") == std::string::npos, name);
    BOOST_TEST(name.find("certctl-journal") == std::string::npos, name);
  }
}

int main(int argc, char* argv[]) {
  for (const char* program : {"keytool", "/usr/sbin/sshd", "ssh-keygen", "nginx", "unshare"}) {
    if (!tt::have_program(program)) {
      std::cout << "SKIP: " << program << " is not installed (tools/setup.sh installs it)\n";
      return tt::skip_exit_code;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
