#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>

#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/secure_file.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;
using certctl::test::file_mode;
using certctl::test::read_text;
using certctl::test::temp_dir;

BOOST_AUTO_TEST_SUITE(key_store_suite)

BOOST_AUTO_TEST_CASE(a_stored_key_reads_back_and_is_gone_after_remove) {
  temp_dir tmp;
  auto store = key_store::open(tmp.file("keys"), generate_aead_key());
  BOOST_REQUIRE(store.ok());
  auto key = generate_key();
  BOOST_REQUIRE(store->put("ca-1", key->pem).ok());
  BOOST_TEST(store->contains("ca-1"));
  auto back = store->get("ca-1");
  BOOST_REQUIRE(back.ok());
  BOOST_TEST(back.value() == key->pem);

  auto other = generate_key();
  BOOST_REQUIRE(store->put("ca-1", other->pem).ok());  // replace
  BOOST_TEST(store->get("ca-1").value() == other->pem);

  BOOST_REQUIRE(store->remove("ca-1").ok());
  BOOST_TEST(!store->contains("ca-1"));
  auto gone = store->get("ca-1");
  BOOST_REQUIRE(!gone.ok());
  BOOST_TEST(gone.error().message.find("no key with id") != std::string::npos);
  BOOST_TEST(store->remove("ca-1").ok());  // idempotent
}

BOOST_AUTO_TEST_CASE(key_files_are_owner_only_and_hold_no_plaintext) {
  temp_dir tmp;
  ::umask(022);
  auto store = key_store::open(tmp.file("keys"), generate_aead_key());
  BOOST_REQUIRE(store.ok());
  auto key = generate_key(key_type::rsa_2048);
  BOOST_REQUIRE(store->put("k", key->pem).ok());
  BOOST_TEST(file_mode(tmp.file("keys")) == 0700u);
  BOOST_TEST(file_mode(store->path_of("k")) == 0600u);
  const std::string on_disk = read_text(store->path_of("k"));
  BOOST_TEST(on_disk.find("PRIVATE KEY") == std::string::npos);
  BOOST_TEST(on_disk.find("MII") == std::string::npos);
  // Only the key file remains: no temp files left behind.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.file("keys"))) {
    (void)e;
    ++files;
  }
  BOOST_TEST(files == 1u);
}

BOOST_AUTO_TEST_CASE(ids_that_could_escape_the_directory_are_refused) {
  temp_dir tmp;
  auto store = key_store::open(tmp.file("keys"), generate_aead_key());
  BOOST_REQUIRE(store.ok());
  for (const std::string& id : std::vector<std::string>{"", "../x", "a/b", ".hidden", "..", "a b",
                                                        "x\n", std::string(129, 'a')}) {
    auto put = store->put(id, "secret");
    BOOST_REQUIRE(!put.ok());
    BOOST_TEST(put.error().message.find("invalid id") != std::string::npos);
    BOOST_TEST(!store->get(id).ok());
    BOOST_TEST(!store->remove(id).ok());
  }
  BOOST_TEST(valid_key_id("iss-local.ca_2"));
}

BOOST_AUTO_TEST_CASE(a_key_file_moved_to_another_id_or_opened_with_another_master_key_fails) {
  temp_dir tmp;
  const aead_key master = generate_aead_key();
  auto store = key_store::open(tmp.file("keys"), master);
  BOOST_REQUIRE(store->put("a", "secret-a").ok());
  std::filesystem::copy_file(store->path_of("a"), store->path_of("b"));
  auto swapped = store->get("b");
  BOOST_REQUIRE(!swapped.ok());
  BOOST_TEST(swapped.error().message.find("authentication failed") != std::string::npos);

  auto other = key_store::open(tmp.file("keys"), generate_aead_key());
  BOOST_TEST(!other->get("a").ok());
}

BOOST_AUTO_TEST_CASE(the_master_key_is_created_once_with_mode_0600_and_reloaded) {
  temp_dir tmp;
  const std::string path = tmp.file("master.key");
  auto first = load_or_create_master_key(path);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(file_mode(path) == 0600u);
  BOOST_TEST(read_text(path).size() == 32u);
  auto again = load_or_create_master_key(path);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST((again.value() == first.value()));
}

BOOST_AUTO_TEST_CASE(a_master_key_readable_by_others_or_of_the_wrong_size_is_refused) {
  temp_dir tmp;
  const std::string path = tmp.file("master.key");
  BOOST_REQUIRE(load_or_create_master_key(path).ok());
  ::chmod(path.c_str(), 0644);
  auto open = load_or_create_master_key(path);
  BOOST_REQUIRE(!open.ok());
  BOOST_TEST(open.error().message.find("chmod 600") != std::string::npos);

  const std::string short_path = tmp.file("short.key");
  BOOST_REQUIRE(write_file_atomic(short_path, "too short", 0600).ok());
  auto wrong = load_or_create_master_key(short_path);
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST(wrong.error().message.find("exactly 32 bytes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(exclusive_create_never_replaces_an_existing_file) {
  temp_dir tmp;
  const std::string path = tmp.file("f");
  auto first = create_file_exclusive(path, "one");
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first.value());
  auto second = create_file_exclusive(path, "two");
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(!second.value());
  BOOST_TEST(read_text(path) == "one");
  auto big = read_file(path, 2);
  BOOST_TEST(!big.ok());
}

BOOST_AUTO_TEST_SUITE_END()
