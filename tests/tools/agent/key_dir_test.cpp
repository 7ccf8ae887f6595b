// The agent's key directory: private modes, one key per CSR, the key that matches a
// certificate found by its public key, and old keys pruned only once a newer one is deployed.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/tools/agent/agent_test_support.hpp"
#include "tools/agent/key_dir.hpp"

using namespace certctl;
using namespace certctl::agent;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(agent_key_dir)

BOOST_AUTO_TEST_CASE(the_dir_is_private_and_each_csr_gets_its_own_owner_only_key) {
  test::scratch_dir dir;
  const std::string keys_path = dir.path + "/a/b/keys";
  auto keys = key_dir::open(keys_path);
  BOOST_REQUIRE_MESSAGE(keys.ok(), (keys.ok() ? "" : keys.error()));
  BOOST_TEST(test::mode_of(keys_path) == 0700u);
  auto one = keys->new_key("mc-1", crypto::key_type::ecdsa_p256, "a.example.com",
                           {{"a.example.com"}, {}, {}, {}});
  BOOST_REQUIRE(one.ok());
  auto two = keys->new_key("mc-1", crypto::key_type::rsa_2048, "a.example.com", {});
  BOOST_REQUIRE(two.ok());
  BOOST_TEST(one->csr_pem.find("PRIVATE") == std::string::npos);
  BOOST_TEST(two->csr.key_algorithm == "RSA");
  auto files = test::files_in(keys_path);
  BOOST_REQUIRE_EQUAL(files.size(), 2u);
  for (const auto& f : files) BOOST_TEST(test::mode_of(f) == 0600u, f);
  // Traversal through a certificate id is refused.
  BOOST_TEST(!keys->new_key("../mc", crypto::key_type::ecdsa_p256, "x", {}).ok());
  BOOST_TEST(!keys->new_key(".hidden", crypto::key_type::ecdsa_p256, "x", {}).ok());
}

BOOST_AUTO_TEST_CASE(an_open_directory_is_made_private_and_a_file_is_refused) {
  test::scratch_dir dir;
  fs::create_directories(dir.path + "/open");
  ::chmod((dir.path + "/open").c_str(), 0755);
  BOOST_TEST(key_dir::open(dir.path + "/open").ok());
  BOOST_TEST(test::mode_of(dir.path + "/open") == 0700u);
  test::write(dir.path + "/file", "x");
  BOOST_TEST(!key_dir::open(dir.path + "/file").ok());
}

BOOST_AUTO_TEST_CASE(deployment_finds_the_matching_key_and_prunes_only_older_ones) {
  test::scratch_dir dir;
  auto keys = key_dir::open(dir.path + "/keys");
  BOOST_REQUIRE(keys.ok());
  auto old_key = keys->new_key("mc-1", crypto::key_type::ecdsa_p256, "a.example.com", {});
  BOOST_REQUIRE(old_key.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct mtimes
  auto current = keys->new_key("mc-1", crypto::key_type::ecdsa_p256, "a.example.com", {});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto pending = keys->new_key("mc-1", crypto::key_type::ecdsa_p256, "a.example.com", {});
  auto other_cert = keys->new_key("mc-10", crypto::key_type::ecdsa_p256, "b.example.com", {});
  BOOST_REQUIRE(current.ok() && pending.ok() && other_cert.ok());
  const std::string cert = test::certificate_for(current->csr.public_key_der, "a.example.com");

  auto found = keys->key_for("mc-1", cert);
  BOOST_REQUIRE_MESSAGE(found.ok(), (found.ok() ? "" : found.error().message));
  BOOST_TEST(*found == current->key.pem);
  BOOST_TEST(!keys->key_for("mc-2", cert).ok());  // another certificate's id: no such key
  auto none = keys->key_for("mc-1", test::certificate_for(other_cert->csr.public_key_der, "b"));
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST(none.error().message.find("no private key") != std::string::npos);

  keys->prune_older("mc-1", cert);
  auto files = test::files_in(dir.path + "/keys");
  BOOST_TEST(files.size() == 3u);  // current, the pending renewal, and mc-10's
  BOOST_TEST(keys->key_for("mc-1", cert).ok());
  BOOST_TEST(keys->key_for("mc-1", test::certificate_for(pending->csr.public_key_der, "a")).ok());
  BOOST_TEST(!keys->key_for("mc-1", test::certificate_for(old_key->csr.public_key_der, "a")).ok());
}

BOOST_AUTO_TEST_SUITE_END()
