#include <boost/test/unit_test.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/secure_file.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;
using certctl::test::file_mode;
using certctl::test::read_text;
using certctl::test::temp_dir;

namespace {

/// The secret for `id`, or "<error: ...>" so a failed read shows up in the comparison.
std::string read_secret(const key_store& store, const std::string& id) {
  auto r = store.get(id);
  return r.ok() ? r.value() : "<error: " + r.error().message + ">";
}

}  // namespace

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

BOOST_AUTO_TEST_CASE(the_database_is_owner_only_and_holds_no_plaintext) {
  temp_dir tmp;
  ::umask(022);
  auto store = key_store::open(tmp.file("keys"), generate_aead_key());
  BOOST_REQUIRE(store.ok());
  auto key = generate_key(key_type::rsa_2048);
  BOOST_REQUIRE(store->put("k", key->pem).ok());
  const std::string db = tmp.file("keys/keys.db");
  BOOST_TEST(store->database_path() == db);
  BOOST_TEST(store->path_of("k") == db);
  BOOST_TEST(file_mode(tmp.file("keys")) == 0700u);
  // While the store is open the committed rows sit in the WAL; check both files.
  for (const std::string& f : {db, db + "-wal"}) {
    BOOST_TEST_INFO(f);
    BOOST_TEST(file_mode(f) == 0600u);
    const std::string on_disk = read_text(f);
    BOOST_TEST(on_disk.find("PRIVATE KEY") == std::string::npos);
    // A full line of the key's base64 body (the second line of the PEM).
    const auto first_nl = key->pem.find('\n');
    const std::string body_line = key->pem.substr(first_nl + 1, 64);
    BOOST_TEST(on_disk.find(body_line) == std::string::npos);
  }
  // Only the database and SQLite's WAL and shared-memory files: no file per key, no temp files.
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(tmp.file("keys")))
    names.insert(e.path().filename().string());
  BOOST_TEST((names == std::set<std::string>{"keys.db", "keys.db-shm", "keys.db-wal"}));
}

BOOST_AUTO_TEST_CASE(concurrent_puts_are_all_stored_and_survive_a_reopen) {
  temp_dir tmp;
  const aead_key master = generate_aead_key();
  constexpr int threads = 16, per_thread = 25;
  {
    auto store = key_store::open(tmp.file("keys"), master);
    BOOST_REQUIRE(store.ok());
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          const std::string id = "k-" + std::to_string(t) + "-" + std::to_string(i);
          if (!store->put(id, "secret " + id).ok()) ++failures;
          // A put is visible to readers as soon as it returns.
          if (read_secret(*store, id) != "secret " + id) ++failures;
        }
      });
    for (auto& w : workers) w.join();
    BOOST_TEST(failures.load() == 0);
  }
  auto reopened = key_store::open(tmp.file("keys"), master);
  BOOST_REQUIRE(reopened.ok());
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i) {
      const std::string id = "k-" + std::to_string(t) + "-" + std::to_string(i);
      BOOST_TEST(read_secret(*reopened, id) == "secret " + id);
    }
}

BOOST_AUTO_TEST_CASE(key_files_of_earlier_versions_are_imported_and_then_deleted) {
  temp_dir tmp;
  const aead_key master = generate_aead_key();
  BOOST_REQUIRE(ensure_private_directory(tmp.file("keys")).ok());
  // The pre-database layout: <id>.key = "CKS1" || seal(secret, "certctl-key-store/v1/" + id).
  auto legacy = [&](const std::string& id, const std::string& secret) {
    auto sealed = aead_seal(master, secret, "certctl-key-store/v1/" + id);
    BOOST_REQUIRE(sealed.ok());
    std::string file = "CKS1";
    file.append(sealed->begin(), sealed->end());
    BOOST_REQUIRE(write_file_atomic(tmp.file("keys/" + id + ".key"), file, 0600).ok());
  };
  legacy("ca", "old ca secret");
  legacy("mc-1", "old leaf secret");
  certctl::test::write_text(tmp.file("keys/notes.key"), "not a key store file");
  {
    auto store = key_store::open(tmp.file("keys"), master);
    BOOST_REQUIRE(store.ok());
    BOOST_TEST(read_secret(*store, "ca") == "old ca secret");
    BOOST_TEST(read_secret(*store, "mc-1") == "old leaf secret");
    BOOST_REQUIRE(store->put("ca", "new ca secret").ok());
  }
  BOOST_TEST(!file_exists(tmp.file("keys/ca.key")));
  BOOST_TEST(!file_exists(tmp.file("keys/mc-1.key")));
  BOOST_TEST(file_exists(tmp.file("keys/notes.key")));  // not ours: left alone
  // A file restored next to the database never overwrites the newer row.
  legacy("ca", "stale copy");
  auto again = key_store::open(tmp.file("keys"), master);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(read_secret(*again, "ca") == "new ca secret");
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

BOOST_AUTO_TEST_CASE(a_blob_moved_to_another_id_or_opened_with_another_master_key_fails) {
  temp_dir tmp;
  const aead_key master = generate_aead_key();
  auto store = key_store::open(tmp.file("keys"), master);
  BOOST_REQUIRE(store->put("a", "secret-a").ok());
  // Copy a's sealed blob into a row for b, behind the store's back.
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(store->database_path().c_str(), &db) == SQLITE_OK);
  const char* copy =
      "INSERT INTO sealed_keys(id, sealed) SELECT 'b', sealed FROM sealed_keys WHERE id = 'a'";
  BOOST_TEST(sqlite3_exec(db, copy, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  BOOST_TEST(store->contains("b"));
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
