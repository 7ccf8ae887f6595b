// The shared key store of cluster mode (docs/cluster.md "Shared key material"): two stores
// over one database stand for two nodes. Runs on SQLite and on a real PostgreSQL
// (CERTCTL_TEST_POSTGRES_URL), the backend clusters use.
#define BOOST_TEST_MODULE infra_crypto_shared_key_store
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/sql/database.hpp"
#include "tests/infra/sql/sql_fixture.hpp"

using namespace certctl;
using namespace certctl::crypto;
namespace bdata = boost::unit_test::data;

namespace {

const std::vector<std::string> backends = {"sqlite", "postgres"};

key_store open_node(const std::shared_ptr<sql::database>& db, const aead_key& current,
                    std::vector<aead_key> previous = {}) {
  auto s = key_store::open_shared(db, key_encryption_keys{current, std::move(previous)});
  BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
  return std::move(s).value();
}

/// The value, or the error's text, so a failure shows in the comparison.
std::string text_of(const crypto_result<std::string>& r) {
  return r ? r.value() : "<error: " + r.error().message + ">";
}

size_t count_of(const crypto_result<size_t>& r) {
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return r.value();
}

std::string raw_row(sql::database& db, const std::string& id) {
  auto rows = db.query("SELECT sealed FROM shared_sealed_keys WHERE id = ?", {id});
  BOOST_REQUIRE(rows);
  BOOST_REQUIRE_EQUAL(rows->size(), 1u);
  return rows->front().text(0).value_or("");
}

}  // namespace

BOOST_DATA_TEST_CASE(a_key_put_on_one_node_is_read_on_another, bdata::make(backends), backend) {
  testing::db_env env(backend);
  const aead_key kek = generate_aead_key();
  key_store a = open_node(env.db, kek);
  key_store b = open_node(env.db, kek);
  auto key = generate_key();
  BOOST_REQUIRE(key);
  BOOST_REQUIRE(a.put("mc-1", key->pem));
  BOOST_TEST(b.contains("mc-1"));
  auto got = b.get("mc-1");
  BOOST_REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
  BOOST_TEST(*got == key->pem);
  // Ciphertext at rest: no PEM text in the row.
  const std::string raw = raw_row(*env.db, "mc-1");
  BOOST_TEST(raw.find("PRIVATE KEY") == std::string::npos);
  BOOST_TEST(raw.size() > key->pem.size());
  BOOST_REQUIRE(b.remove("mc-1"));
  BOOST_TEST(!a.contains("mc-1"));
  BOOST_TEST(!a.get("mc-1"));
}

BOOST_DATA_TEST_CASE(a_node_without_the_kek_cannot_open_a_key, bdata::make(backends), backend) {
  testing::db_env env(backend);
  key_store a = open_node(env.db, generate_aead_key());
  key_store stranger = open_node(env.db, generate_aead_key());
  BOOST_REQUIRE(a.put("acme-eab-eab-1", "hmac-secret"));
  auto got = stranger.get("acme-eab-eab-1");
  BOOST_REQUIRE(!got);
  BOOST_TEST(got.error().message.find("key-encryption key") != std::string::npos);
}

BOOST_DATA_TEST_CASE(a_blob_moved_to_another_id_does_not_open, bdata::make(backends), backend) {
  testing::db_env env(backend);
  const aead_key kek = generate_aead_key();
  key_store a = open_node(env.db, kek);
  BOOST_REQUIRE(a.put("ica-1", "intermediate key"));
  BOOST_REQUIRE(env.db->exec("INSERT INTO shared_sealed_keys(id, sealed) VALUES(?, ?)",
                             {std::string("ica-2"), raw_row(*env.db, "ica-1")}));
  BOOST_TEST(text_of(a.get("ica-1")) == "intermediate key");
  BOOST_TEST(!a.get("ica-2"));
}

BOOST_DATA_TEST_CASE(rotation_reads_old_blobs_and_reseals_them, bdata::make(backends), backend) {
  testing::db_env env(backend);
  const aead_key old_kek = generate_aead_key(), new_kek = generate_aead_key();
  key_store before = open_node(env.db, old_kek);
  BOOST_REQUIRE(before.put("k-lazy", "secret one"));
  BOOST_REQUIRE(before.put("k-bulk", "secret two"));
  BOOST_REQUIRE(before.put("k-bulk2", "secret three"));

  // A node given only the new KEK cannot read them yet.
  key_store only_new = open_node(env.db, new_kek);
  BOOST_TEST(!only_new.get("k-lazy"));

  // During the rotation: new KEK current, old kept for reading. A read re-seals lazily.
  key_store rotating = open_node(env.db, new_kek, {old_kek});
  const std::string lazy_before = raw_row(*env.db, "k-lazy");
  BOOST_TEST(text_of(rotating.get("k-lazy")) == "secret one");
  BOOST_TEST(raw_row(*env.db, "k-lazy") != lazy_before);
  BOOST_TEST(text_of(only_new.get("k-lazy")) == "secret one");
  BOOST_TEST(!before.get("k-lazy"));  // the old KEK alone no longer opens it

  // The re-seal pass rewrites the rest, once.
  auto n = rotating.reseal_all();
  BOOST_REQUIRE(n);
  BOOST_TEST(*n == 2u);
  BOOST_TEST(count_of(rotating.reseal_all()) == 0u);
  BOOST_TEST(text_of(only_new.get("k-bulk")) == "secret two");
  BOOST_TEST(text_of(only_new.get("k-bulk2")) == "secret three");
}

BOOST_AUTO_TEST_CASE(kek_ids_name_keys_without_revealing_them) {
  const aead_key k = generate_aead_key();
  BOOST_TEST(kek_id(k).size() == 16u);
  BOOST_TEST(kek_id(k) == kek_id(k));
  BOOST_TEST(kek_id(k) != kek_id(generate_aead_key()));
}
