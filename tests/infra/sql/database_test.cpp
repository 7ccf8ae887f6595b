// sql::database: one SQL text on SQLite (memory and file) and PostgreSQL, pooled and transactional.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

#include "infra/sql/url.hpp"
#include "tests/infra/sql/sql_fixture.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using namespace certctl::sql;
using testing::db_env;

BOOST_AUTO_TEST_SUITE(read_db_suite)

BOOST_AUTO_TEST_CASE(placeholders_become_numbered_for_postgres_outside_quotes) {
  BOOST_TEST(translate_placeholders("SELECT ? , '?' , \"a?\" , ?", sql_dialect::postgres) ==
             "SELECT $1 , '?' , \"a?\" , $2");
  BOOST_TEST(translate_placeholders("SELECT 'it''s?', ?", sql_dialect::postgres) ==
             "SELECT 'it''s?', $1");
  BOOST_TEST(translate_placeholders("SELECT ?", sql_dialect::sqlite) == "SELECT ?");
}

BOOST_AUTO_TEST_CASE(a_bad_store_url_is_an_error_not_an_exception) {
  auto db = sql::database::open("mysql://nope");
  BOOST_REQUIRE(!db.ok());
  BOOST_TEST(db.error().code == db_errc::bad_url);
}

BOOST_AUTO_TEST_CASE(store_urls_parse_once_for_the_log_and_the_read_models) {
  auto sqlite = parse_db_url("sqlite:///var/lib/certctl/events.db");
  BOOST_REQUIRE(sqlite.ok());
  BOOST_TEST((sqlite->k == db_url::kind::sqlite));
  BOOST_TEST(sqlite->location == "/var/lib/certctl/events.db");
  BOOST_TEST((parse_db_url("memory:")->k == db_url::kind::memory));
  BOOST_TEST((parse_db_url("postgres://u@h/db")->k == db_url::kind::postgres));
  auto relative = parse_db_url("sqlite://relative.db");
  BOOST_REQUIRE(!relative.ok());
  BOOST_TEST(relative.error().code == db_errc::bad_url);
  // The password never reaches a message.
  auto bad = parse_db_url("mysql://u:s3cret@h/db");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("s3cret") == std::string::npos);
  BOOST_TEST(redact_uri("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db");
}

BOOST_DATA_TEST_CASE(parameters_and_columns_round_trip_null_integer_and_text,
                     bdata::make(testing::sql_backends()), backend) {
  db_env env(backend);
  auto& db = *env.db;
  BOOST_REQUIRE(db.exec("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, s TEXT)").ok());
  auto ins = db.exec("INSERT INTO t (k, n, s) VALUES (?, ?, ?)",
                     {std::string("a"), std::int64_t{-9000000000}, sql_value{}});
  BOOST_REQUIRE_MESSAGE(ins.ok(), (ins.ok() ? "" : ins.error().message));
  BOOST_TEST(*ins == 1);
  BOOST_REQUIRE(db.exec("INSERT INTO t (k, n, s) VALUES (?, ?, ?)",
                        {std::string("b"), sql_value{}, std::string("h\xc3\xa9 '?'")})
                    .ok());
  // The upsert dialect both backends share.
  BOOST_REQUIRE(db.exec("INSERT INTO t (k, n, s) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE "
                        "SET n = excluded.n",
                        {std::string("b"), std::int64_t{7}, std::string("ignored")})
                    .ok());
  auto r = db.query("SELECT k, n, s, COUNT(*) OVER () FROM t ORDER BY k");
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_REQUIRE(r->size() == 2u);
  const auto& a = (*r)[0];
  BOOST_TEST(*a.text(0) == "a");
  BOOST_TEST(*a.int64(1) == -9000000000);
  BOOST_TEST(a.is_null(2));
  BOOST_TEST(*a.int64(3) == 2);
  const auto& b = (*r)[1];
  BOOST_TEST(*b.int64(1) == 7);
  BOOST_TEST(*b.text(2) == "h\xc3\xa9 '?'");
  auto dup = db.exec("INSERT INTO t (k) VALUES (?)", {std::string("a")});
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST(dup.error().code == db_errc::constraint);
  auto bad = db.query("SELECT nope FROM t");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().code == db_errc::query_failed);
}

BOOST_DATA_TEST_CASE(transactions_commit_roll_back_and_recover_at_savepoints,
                     bdata::make(testing::sql_backends()), backend) {
  db_env env(backend);
  auto& db = *env.db;
  BOOST_REQUIRE(db.exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  {
    auto tx = db.begin();
    BOOST_REQUIRE(tx.ok());
    BOOST_REQUIRE(tx->exec("INSERT INTO t (k) VALUES ('dropped')").ok());
  }  // destroyed without commit: rolled back
  {
    auto tx = db.begin();
    BOOST_REQUIRE(tx.ok());
    BOOST_REQUIRE(tx->exec("INSERT INTO t (k) VALUES ('kept')").ok());
    BOOST_REQUIRE(tx->savepoint().ok());
    BOOST_REQUIRE(tx->exec("INSERT INTO t (k) VALUES ('undone')").ok());
    BOOST_REQUIRE(!tx->exec("INSERT INTO t (k) VALUES ('kept')").ok());  // aborts on PostgreSQL
    auto back = tx->rollback_to_savepoint();
    BOOST_REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.error().message));
    BOOST_REQUIRE(tx->release_savepoint().ok());
    BOOST_REQUIRE(tx->exec("INSERT INTO t (k) VALUES ('after')").ok());
    auto committed = tx->commit();
    BOOST_REQUIRE_MESSAGE(committed.ok(), (committed.ok() ? "" : committed.error().message));
    BOOST_TEST(!tx->exec("SELECT 1").ok());
  }
  auto r = db.query("SELECT k FROM t ORDER BY k");
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->size() == 2u);
  BOOST_TEST(*(*r)[0].text(0) == "after");
  BOOST_TEST(*(*r)[1].text(0) == "kept");
}

BOOST_DATA_TEST_CASE(many_threads_read_while_a_transaction_writes,
                     bdata::make(testing::sql_backends()), backend) {
  db_env env(backend);
  auto& db = *env.db;
  BOOST_REQUIRE(db.exec("CREATE TABLE t (k BIGINT PRIMARY KEY)").ok());
  BOOST_REQUIRE(db.exec("INSERT INTO t (k) VALUES (0)").ok());
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 1; i <= 20; ++i) {
      auto tx = db.begin();
      if (!tx || !tx->exec("INSERT INTO t (k) VALUES (?)", {std::int64_t{i}}) || !tx->commit())
        ++failures;
    }
    writing = false;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 25 || writing; ++i) {
        auto r = db.query("SELECT COUNT(*) FROM t");
        if (!r || r->size() != 1u || r->front().int64(0).value_or(0) < 1) ++failures;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(*db.query("SELECT COUNT(*) FROM t")->front().int64(0) == 21);
}

// The projector's transactions skip the wait for the disk (durability::derived); the pooled
// connection must be durable again for whoever borrows it next, committed or rolled back.
BOOST_AUTO_TEST_CASE(a_derived_transaction_relaxes_only_its_own_commit_on_sqlite) {
  testing::scratch_db scratch("sqlite");
  auto opened = sql::database::open(scratch.url(), database_options{1});
  BOOST_REQUIRE(opened.ok());
  auto& db = **opened;
  auto synchronous = [&](transaction* tx) {
    auto r = tx != nullptr ? tx->query("PRAGMA synchronous") : db.query("PRAGMA synchronous");
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *(*r)[0].int64(0);
  };
  constexpr std::int64_t normal = 1, full = 2;
  BOOST_TEST(synchronous(nullptr) == full);
  auto autocheckpoint = db.query("PRAGMA wal_autocheckpoint");
  BOOST_REQUIRE(autocheckpoint.ok());
  BOOST_TEST(*(*autocheckpoint)[0].int64(0) == 16384);
  BOOST_REQUIRE(db.exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  for (const bool commit : {true, false}) {
    auto tx = db.begin(durability::derived);
    BOOST_REQUIRE(tx.ok());
    BOOST_TEST(synchronous(&*tx) == normal);
    BOOST_REQUIRE(tx->exec("INSERT INTO t (k) VALUES (?)", {std::string(commit ? "c" : "r")}).ok());
    if (commit) {
      BOOST_REQUIRE(tx->commit().ok());
    } else {
      tx->rollback();
    }
    BOOST_TEST(synchronous(nullptr) == full);  // the same (only) pooled connection
  }
  auto full_tx = db.begin();
  BOOST_REQUIRE(full_tx.ok());
  BOOST_TEST(synchronous(&*full_tx) == full);
  full_tx->rollback();
  auto rows = db.query("SELECT k FROM t");
  BOOST_REQUIRE(rows.ok());
  BOOST_REQUIRE(rows->size() == 1u);
  BOOST_TEST(*(*rows)[0].text(0) == "c");
}

BOOST_AUTO_TEST_CASE(a_derived_transaction_turns_synchronous_commit_off_locally_on_postgres) {
  testing::scratch_db scratch("postgres");
  auto opened = sql::database::open(scratch.url(), database_options{1});
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  auto& db = **opened;
  auto setting = [](const db_result<rows>& r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *(*r)[0].text(0);
  };
  const std::string configured = setting(db.query("SHOW synchronous_commit"));
  auto tx = db.begin(durability::derived);
  BOOST_REQUIRE(tx.ok());
  BOOST_TEST(setting(tx->query("SHOW synchronous_commit")) == "off");
  BOOST_REQUIRE(tx->commit().ok());
  BOOST_TEST(setting(db.query("SHOW synchronous_commit")) == configured);
}

BOOST_AUTO_TEST_SUITE_END()
