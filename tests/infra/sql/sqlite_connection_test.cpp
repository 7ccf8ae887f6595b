// sql::sqlite_connection: the one SQLite layer under the event store, read models and key store.
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "infra/sql/scoped_transaction.hpp"
#include "infra/sql/sqlite.hpp"
#include "tests/infra/sql/sql_fixture.hpp"

using namespace certctl;
using namespace certctl::sql;
using testing::scratch_db;

namespace {

std::unique_ptr<sqlite_connection> open_or_fail(const std::string& path,
                                                const sqlite_options& o = {}) {
  auto c = sqlite_connection::open(path, o);
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(c).value();
}

std::int64_t count(sqlite_connection& c, const std::string& table) {
  auto r = c.query("SELECT count(*) FROM " + table);
  BOOST_REQUIRE(r.ok());
  return *(*r)[0].int64(0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_connection_suite)

BOOST_AUTO_TEST_CASE(null_integer_text_and_blob_bind_and_read_back) {
  scratch_db s("sqlite");
  auto c = open_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (n INTEGER, i INTEGER, s TEXT, b BLOB)").ok());
  const std::vector<std::uint8_t> blob{0, 1, 0xff, 0};
  {
    auto st = c->prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
    BOOST_REQUIRE(st.ok());
    st->bind_null(1)
        .bind(2, std::int64_t{-9000000000})
        .bind(3, "h\xc3\xa9")
        .bind_blob(4, blob.data(), blob.size());
    auto changed = st->run();
    BOOST_REQUIRE(changed.ok());
    BOOST_TEST(*changed == 1);
  }
  {
    // An empty blob is a blob, not NULL.
    auto st = c->prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
    BOOST_REQUIRE(st.ok());
    st->bind_null(1).bind(2, std::int64_t{1}).bind(3, "").bind_blob(4, nullptr, 0);
    BOOST_REQUIRE(st->run().ok());
  }
  auto st = c->prepare("SELECT n, i, s, b FROM t ORDER BY i");
  BOOST_REQUIRE(st.ok());
  auto row = st->step();
  BOOST_REQUIRE(row.ok());
  BOOST_REQUIRE(*row);
  BOOST_TEST(st->is_null(0));
  BOOST_TEST(st->is_integer(1));
  BOOST_TEST(st->int64(1) == -9000000000);
  BOOST_TEST(*st->text(2) == "h\xc3\xa9");
  BOOST_TEST((st->blob(3) == blob));
  BOOST_TEST(!st->text(0).has_value());
  row = st->step();
  BOOST_REQUIRE(row.ok());
  BOOST_REQUIRE(*row);
  BOOST_TEST(!st->is_null(3));
  BOOST_TEST(st->blob(3).empty());
  BOOST_TEST(*st->text(2) == "");
  row = st->step();
  BOOST_REQUIRE(row.ok());
  BOOST_TEST(!*row);
}

BOOST_AUTO_TEST_CASE(a_statement_is_prepared_once_per_text_and_reused_from_the_cache) {
  scratch_db s("sqlite");
  auto c = open_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (k INTEGER PRIMARY KEY)").ok());
  const size_t before = c->cached_statements();
  for (std::int64_t i = 0; i < 5; ++i)
    BOOST_REQUIRE(c->exec("INSERT INTO t (k) VALUES (?)", {i}).ok());
  BOOST_TEST(c->cached_statements() == before + 1);
  BOOST_REQUIRE(c->query("SELECT k FROM t WHERE k = ?", {std::int64_t{3}}).ok());
  BOOST_TEST(c->cached_statements() == before + 2);
  // A reused statement starts unbound: a value bound last time does not leak into this use.
  {
    auto st = c->prepare("SELECT ?1 IS NULL");
    BOOST_REQUIRE(st.ok());
    st->bind(1, std::int64_t{1});
    BOOST_REQUIRE(*st->step());
    BOOST_TEST(st->int64(0) == 0);
  }
  {
    auto st = c->prepare("SELECT ?1 IS NULL");
    BOOST_REQUIRE(st.ok());
    BOOST_REQUIRE(*st->step());
    BOOST_TEST(st->int64(0) == 1);
  }
  BOOST_TEST(count(*c, "t") == 5);
  {
    // While a handle is alive its text is not lent again (that would reset it mid-read).
    auto reading = c->prepare("SELECT k FROM t ORDER BY k");
    BOOST_REQUIRE(reading.ok());
    BOOST_REQUIRE(*reading->step());
    auto again = c->prepare("SELECT k FROM t ORDER BY k");
    BOOST_REQUIRE(!again.ok());
    BOOST_TEST(again.error().code == db_errc::invalid_argument);
    BOOST_TEST(reading->int64(0) == 0);
    BOOST_REQUIRE(*reading->step());
    BOOST_TEST(reading->int64(0) == 1);
  }
  BOOST_TEST(c->prepare("SELECT k FROM t ORDER BY k").ok());  // returned when dropped
}

BOOST_AUTO_TEST_CASE(errors_map_to_the_db_errc_categories) {
  scratch_db s("sqlite");
  auto c = open_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)").ok());
  BOOST_REQUIRE(c->exec("INSERT INTO t VALUES (?, ?)", {std::string("a"), std::string("x")}).ok());
  auto dup = c->exec("INSERT INTO t VALUES (?, ?)", {std::string("a"), std::string("y")});
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST(dup.error().code == db_errc::constraint);
  auto null = c->exec("INSERT INTO t VALUES (?, ?)", {std::string("b"), sql_value{}});
  BOOST_REQUIRE(!null.ok());
  BOOST_TEST(null.error().code == db_errc::constraint);
  auto syntax = c->query("SELEKT 1");
  BOOST_REQUIRE(!syntax.ok());
  BOOST_TEST(syntax.error().code == db_errc::query_failed);
  auto missing = c->query("SELECT * FROM nope");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == db_errc::query_failed);
  auto two = c->prepare("SELECT 1; SELECT 2");
  BOOST_REQUIRE(!two.ok());
  BOOST_TEST(two.error().code == db_errc::invalid_argument);
  auto arity = c->exec("INSERT INTO t VALUES (?, ?)", {std::string("c")});
  BOOST_REQUIRE(!arity.ok());
  BOOST_TEST(arity.error().code == db_errc::invalid_argument);
  // Another connection holding the write lock: busy, which is transient.
  sqlite_options impatient;
  impatient.busy_timeout_ms = 0;
  auto other = open_or_fail(s.location(), impatient);
  BOOST_REQUIRE(c->begin().ok());
  auto busy = other->begin();
  BOOST_REQUIRE(!busy.ok());
  BOOST_TEST(busy.error().code == db_errc::unavailable);
  c->rollback();
  // A file that cannot be opened is unavailable too.
  sqlite_options no_create;
  no_create.create = false;
  auto absent = sqlite_connection::open((s.dir() / "absent.db").string(), no_create);
  BOOST_REQUIRE(!absent.ok());
  BOOST_TEST(absent.error().code == db_errc::unavailable);
}

BOOST_AUTO_TEST_CASE(a_table_locked_by_another_shared_cache_connection_is_unavailable) {
  // Shared-cache table locks fail at once with SQLITE_LOCKED (no busy handler applies).
  sqlite_options o;
  o.uri = true;
  const std::string uri = "file:sql_locked_test?mode=memory&cache=shared";
  auto a = open_or_fail(uri, o);
  auto b = open_or_fail(uri, o);
  BOOST_REQUIRE(a->exec_script("CREATE TABLE t (k INTEGER)").ok());
  BOOST_REQUIRE(a->begin().ok());
  BOOST_REQUIRE(a->exec("INSERT INTO t VALUES (1)").ok());
  auto locked = b->query("SELECT k FROM t");
  BOOST_REQUIRE(!locked.ok());
  BOOST_TEST(locked.error().code == db_errc::unavailable);
  a->rollback();
  BOOST_TEST(b->query("SELECT k FROM t").ok());
}

BOOST_AUTO_TEST_CASE(result_codes_map_by_their_primary_code) {
  BOOST_TEST(classify_sqlite(SQLITE_BUSY) == db_errc::unavailable);
  BOOST_TEST(classify_sqlite(SQLITE_BUSY_SNAPSHOT) == db_errc::unavailable);
  BOOST_TEST(classify_sqlite(SQLITE_LOCKED_SHAREDCACHE) == db_errc::unavailable);
  BOOST_TEST(classify_sqlite(SQLITE_IOERR_FSYNC) == db_errc::unavailable);
  BOOST_TEST(classify_sqlite(SQLITE_FULL) == db_errc::unavailable);
  BOOST_TEST(classify_sqlite(SQLITE_CANTOPEN) == db_errc::unavailable);
  BOOST_TEST(classify_sqlite(SQLITE_CONSTRAINT_UNIQUE) == db_errc::constraint);
  BOOST_TEST(classify_sqlite(SQLITE_CONSTRAINT_NOTNULL) == db_errc::constraint);
  BOOST_TEST(classify_sqlite(SQLITE_ERROR) == db_errc::query_failed);
  BOOST_TEST(classify_sqlite(SQLITE_MISMATCH) == db_errc::query_failed);
}

BOOST_AUTO_TEST_CASE(open_runs_the_setup_and_fails_when_it_fails) {
  scratch_db s("sqlite");
  sqlite_options o;
  o.setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (k INTEGER);";
  auto c = open_or_fail(s.location(), o);
  auto mode = c->query("PRAGMA journal_mode");
  BOOST_REQUIRE(mode.ok());
  BOOST_TEST(*(*mode)[0].text(0) == "wal");
  auto sync = c->query("PRAGMA synchronous");
  BOOST_REQUIRE(sync.ok());
  BOOST_TEST(*(*sync)[0].int64(0) == 2);  // FULL
  BOOST_TEST(count(*c, "t") == 0);
  o.setup = "CREATE TABLE t (k INTEGER)";  // exists already
  auto again = sqlite_connection::open(s.location(), o);
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().code == db_errc::query_failed);
}

BOOST_AUTO_TEST_CASE(no_follow_refuses_a_symbolic_link) {
  scratch_db s("sqlite");
  open_or_fail(s.location());
  const auto link = s.dir() / "link.db";
  std::filesystem::create_symlink(s.location(), link);
  sqlite_options o;
  o.no_follow = true;
  auto refused = sqlite_connection::open(link.string(), o);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == db_errc::unavailable);
}

BOOST_AUTO_TEST_CASE(transactions_commit_roll_back_and_roll_back_when_dropped) {
  scratch_db s("sqlite");
  auto c = open_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (k INTEGER PRIMARY KEY)").ok());
  {
    auto tx = scoped_transaction<sqlite_connection>::begin(*c);
    BOOST_REQUIRE(tx.ok());
    BOOST_TEST(c->in_transaction());
    BOOST_REQUIRE(c->exec("INSERT INTO t VALUES (1)").ok());
  }  // dropped uncommitted
  BOOST_TEST(!c->in_transaction());
  BOOST_TEST(count(*c, "t") == 0);
  {
    auto tx = scoped_transaction<sqlite_connection>::begin(*c);
    BOOST_REQUIRE(tx.ok());
    BOOST_REQUIRE(c->exec("INSERT INTO t VALUES (2)").ok());
    BOOST_REQUIRE(tx->commit().ok());
    BOOST_TEST(!tx->commit().ok());  // once only
  }
  BOOST_TEST(count(*c, "t") == 1);
  BOOST_REQUIRE(c->begin().ok());
  BOOST_TEST(!c->begin().ok());  // no nesting
  BOOST_REQUIRE(c->exec("INSERT INTO t VALUES (3)").ok());
  c->rollback();
  c->rollback();  // harmless outside a transaction
  BOOST_TEST(count(*c, "t") == 1);
  // A second connection sees only what was committed.
  auto other = open_or_fail(s.location());
  BOOST_TEST(count(*other, "t") == 1);
}

BOOST_AUTO_TEST_CASE(a_statement_dropped_mid_read_releases_its_snapshot) {
  scratch_db s("sqlite");
  sqlite_options wal;
  wal.setup =
      "PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER);"
      "INSERT INTO t VALUES (1), (2);";
  auto reader = open_or_fail(s.location(), wal);
  auto writer = open_or_fail(s.location());
  {
    auto st = reader->prepare("SELECT k FROM t");
    BOOST_REQUIRE(st.ok());
    BOOST_REQUIRE(*st->step());  // a read transaction is open while the statement is mid-way
  }
  BOOST_REQUIRE(writer->exec("INSERT INTO t VALUES (3)").ok());
  // Had the statement not been reset, this reader would still see its old snapshot.
  BOOST_TEST(count(*reader, "t") == 3);
}

BOOST_AUTO_TEST_SUITE_END()
