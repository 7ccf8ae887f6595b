// The Java keystore target (connectors/targets/javakeystore) with the real keytool of
// OpenJDK 17 (LABEL peer): PKCS12 and JKS stores, a new store created, an existing one
// updated with its other entries kept, unchanged redeploys, snapshot and rollback, a failing
// reload restoring the snapshot, a wrong store password and bad configs refused clearly.
// Each keytool call starts a JVM (about 1.5 s), so the cases share work where they can.
#define BOOST_TEST_MODULE connectors_javakeystore_target
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

#include "connectors/config_service.hpp"
#include "connectors/registry.hpp"
#include "connectors/targets/javakeystore/javakeystore_target.hpp"
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

const std::string password = "store-pass-42";

std::shared_ptr<target> make(const events::json_object& config) {
  connector_registry registry;
  BOOST_REQUIRE(register_javakeystore_target(registry, builtin_context{}).ok());
  const auto* reg = registry.find_target("JavaKeystore");
  BOOST_REQUIRE(reg != nullptr);
  auto valid = validate_config(reg->schema, config);
  BOOST_REQUIRE_MESSAGE(valid.ok(), (valid.ok() ? "" : valid.error().message));
  auto t = reg->make({"tgt-ks", config});
  BOOST_REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return *t;
}

events::json_object config_for(const std::string& path, const std::string& type) {
  events::json_object c;
  c.set("keystore_path", path).set("keystore_password", password).set("keystore_type", type);
  return c;
}

/// A store made by keytool itself, holding a self-signed entry "other" (and nothing else).
void keytool_store(const std::string& path, const std::string& type) {
  auto r = run_shell(command_line(
      "keytool", {"-genkeypair", "-alias", "other", "-keyalg", "EC", "-groupname", "secp256r1",
                  "-dname", "CN=other", "-validity", "2", "-keystore", path, "-storetype", type,
                  "-storepass", password, "-keypass", password}));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
}

/// Aliases keytool lists in `path` (lower-case, as keytool prints them).
std::string listing(const std::string& path) {
  return run_shell(command_line("keytool", {"-list", "-keystore", path, "-storepass", password}))
      .out;
}

std::string error_of(const certctl::result<deployment_result, connector_error>& r) {
  return r.ok() ? std::string() : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_pkcs12_store_is_created_then_left_unchanged_for_the_same_certificate) {
  scratch_dir dir;
  const std::string path = dir.path + "/keystore.p12";
  const auto cert = make_certificate("tomcat.test");
  auto t = make(config_for(path, "PKCS12"));
  BOOST_TEST(t->location() == target_location::agent);
  BOOST_REQUIRE(t->validate().ok());
  auto d = t->deploy(request_for(cert));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  BOOST_TEST(!d->unchanged);
  BOOST_TEST(mode_of(path) == 0600);
  const std::string list = listing(path);
  BOOST_TEST(list.find("server, ") != std::string::npos, list);
  BOOST_TEST(list.find("PrivateKeyEntry") != std::string::npos, list);
  auto v = t->verify({"mc", cert.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid, v->message);
  // The work directory (password file, PKCS#12 with the key) is gone.
  for (const auto& e : fs::directory_iterator(dir.path))
    BOOST_TEST(e.path().filename().string().rfind(".certctl-ks-", 0) != 0u, e.path());

  auto again = t->deploy(request_for(cert));
  BOOST_REQUIRE_MESSAGE(again.ok(), error_of(again));
  BOOST_TEST(again->unchanged);
}

BOOST_AUTO_TEST_CASE(an_existing_store_keeps_its_other_entries_and_rollback_restores_the_snapshot) {
  scratch_dir dir;
  const std::string path = dir.path + "/existing.p12";
  keytool_store(path, "PKCS12");
  const auto first = make_certificate("first.test");
  const auto second = make_certificate("second.test");
  auto t = make(config_for(path, "PKCS12").set("alias", "web-1"));
  auto d1 = t->deploy(request_for(first));
  BOOST_REQUIRE_MESSAGE(d1.ok(), error_of(d1));
  const std::string snapshot = slurp(path);
  auto d2 = t->deploy(request_for(second));
  BOOST_REQUIRE_MESSAGE(d2.ok(), error_of(d2));
  const std::string list = listing(path);
  BOOST_TEST(list.find("other, ") != std::string::npos, list);
  BOOST_TEST(list.find("web-1, ") != std::string::npos, list);
  BOOST_TEST(t->verify({"mc", second.serial_hex})->valid);

  BOOST_REQUIRE(t->rollback(d2->deployment_id).ok());
  BOOST_TEST(slurp(path) == snapshot);  // byte for byte the store before deployment 2
  BOOST_TEST(t->verify({"mc", first.serial_hex})->valid);
}

BOOST_AUTO_TEST_CASE(a_jks_store_is_updated_and_stays_jks) {
  scratch_dir dir;
  const std::string path = dir.path + "/keystore.jks";
  keytool_store(path, "JKS");
  const auto cert = make_certificate("jks.test");
  auto t = make(config_for(path, "JKS"));
  auto d = t->deploy(request_for(cert));
  BOOST_REQUIRE_MESSAGE(d.ok(), error_of(d));
  const std::string bytes = slurp(path);
  BOOST_REQUIRE(bytes.size() > 4u);
  BOOST_TEST((bytes.substr(0, 4) == std::string("\xFE\xED\xFE\xED", 4)));  // the JKS magic
  BOOST_TEST(t->verify({"mc", cert.serial_hex})->valid);
  BOOST_TEST(listing(path).find("other, ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_wrong_store_password_is_a_clear_error_and_changes_nothing) {
  scratch_dir dir;
  const std::string path = dir.path + "/locked.p12";
  keytool_store(path, "PKCS12");
  const std::string before = slurp(path);
  auto c = config_for(path, "PKCS12").set("keystore_password", "not-the-password");
  auto t = make(c);
  auto checked = t->validate();
  BOOST_REQUIRE(!checked.ok());
  BOOST_TEST(checked.error().message.find("wrong keystore_password") != std::string::npos,
             checked.error().message);
  auto d = t->deploy(request_for(make_certificate("locked.test")));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == connector_errc::invalid_config);
  BOOST_TEST(d.error().message.find("wrong keystore_password") != std::string::npos,
             d.error().message);
  BOOST_TEST(d.error().message.find("not-the-password") == std::string::npos);
  BOOST_TEST(slurp(path) == before);
}

BOOST_AUTO_TEST_CASE(a_failing_reload_puts_the_snapshot_back) {
  scratch_dir dir;
  const std::string path = dir.path + "/reload.p12";
  keytool_store(path, "PKCS12");
  const std::string before = slurp(path);
  auto d = make(config_for(path, "PKCS12").set("reload_command", "false"))
               ->deploy(request_for(make_certificate("reload.test")));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().message.find("restored") != std::string::npos, d.error().message);
  BOOST_TEST(slurp(path) == before);
}

BOOST_AUTO_TEST_CASE(bad_aliases_paths_types_and_missing_stores_are_refused) {
  connector_registry registry;
  BOOST_REQUIRE(register_javakeystore_target(registry, builtin_context{}).ok());
  const auto* reg = registry.find_target("JavaKeystore");
  const auto secrets = reg->schema.secret_fields();
  BOOST_TEST((secrets == std::vector<std::string>{"keystore_password"}));
  crypto::aead_key master{};
  for (std::size_t i = 0; i < master.size(); ++i) master[i] = static_cast<std::uint8_t>(i + 5);
  config_service svc(registry, master);
  auto stored =
      svc.prepare(connector_kind::target, "JavaKeystore", "t", config_for("/opt/ks.p12", "PKCS12"));
  BOOST_REQUIRE(stored.ok());
  BOOST_TEST(stored->dump().find(password) == std::string::npos, stored->dump());
  BOOST_TEST(svc.redact(connector_kind::target, "JavaKeystore", *stored).str("keystore_password") ==
             std::string(redacted_value));
  auto refused = [&](const events::json_object& c, const std::string& field) {
    auto t = reg->make({"t", c});
    BOOST_REQUIRE(!t.ok());
    BOOST_TEST(t.error().code == connector_errc::invalid_config);
    BOOST_TEST(t.error().message.find("config." + field) != std::string::npos, t.error().message);
  };
  refused(config_for("/opt/ks.p12", "PKCS12").set("alias", "server;rm"), "alias");
  refused(config_for("/opt/ks.p12", "PKCS12").set("alias", "a b"), "alias");
  refused(config_for("/opt/../etc/ks.p12", "PKCS12"), "keystore_path");
  refused(config_for("ks.p12", "PKCS12"), "keystore_path");
  refused(config_for("/opt/ks.p12", "BCFKS"), "keystore_type");
  refused(config_for("/opt/ks.p12", "PKCS12").set("keystore_password", "abc"), "keystore_password");
  refused(config_for("/opt/ks.p12", "PKCS12").set("reload_command", "systemctl restart x && y"),
          "reload_command");

  scratch_dir dir;
  auto t = make(config_for(dir.path + "/absent.p12", "PKCS12").set("create_keystore", false));
  auto d = t->deploy(request_for(make_certificate("absent.test")));
  BOOST_REQUIRE(!d.ok());
  BOOST_TEST(d.error().code == connector_errc::invalid_config);
  BOOST_TEST(d.error().message.find("create_keystore is false") != std::string::npos);
  BOOST_TEST(!fs::exists(dir.path + "/absent.p12"));
}

int main(int argc, char* argv[]) {
  if (!have_program("keytool")) {
    std::cout << "SKIP: keytool is not installed (tools/setup.sh installs a JDK)\n";
    return skip_exit_code;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
