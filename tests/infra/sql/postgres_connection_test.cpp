// sql::pg_connection: the one PostgreSQL layer under the event store and the read models.
// Needs CERTCTL_TEST_POSTGRES_URL.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "infra/sql/postgres.hpp"
#include "infra/sql/scoped_transaction.hpp"
#include "tests/infra/sql/sql_fixture.hpp"

using namespace certctl;
using namespace certctl::sql;
using testing::scratch_db;

namespace {

std::unique_ptr<pg_connection> connect_or_fail(const std::string& uri) {
  auto c = pg_connection::connect(uri);
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  return std::move(c).value();
}

std::int64_t count(pg_connection& c, const std::string& table) {
  auto r = c.query("SELECT count(*) FROM " + table);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return *(*r)[0].int64(0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_connection_suite)

BOOST_AUTO_TEST_CASE(a_server_that_cannot_be_reached_is_unavailable_and_the_password_stays_out) {
  // Port 1 on loopback: nothing listens there.
  auto c = pg_connection::connect("postgresql://u:s3cret@127.0.0.1:1/db?connect_timeout=2");
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == db_errc::unavailable);
  BOOST_TEST(c.error().message.find("s3cret") == std::string::npos);
  BOOST_TEST(c.error().message.find("u:***@") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(parameters_and_columns_round_trip_null_integer_and_text) {
  scratch_db s("postgres");
  auto c = connect_or_fail(s.location());
  BOOST_REQUIRE(
      c->exec_script("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, i INTEGER, s TEXT)").ok());
  auto ins = c->exec("INSERT INTO t VALUES ($1, $2, $3, $4)",
                     {std::string("a"), std::int64_t{-9000000000}, std::int64_t{7}, sql_value{}});
  BOOST_REQUIRE_MESSAGE(ins.ok(), (ins.ok() ? "" : ins.error().message));
  BOOST_TEST(*ins == 1);
  auto r = c->query("SELECT k, n, i, s FROM t WHERE k = $1", {std::string("a")});
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->size() == 1u);
  const auto& row = (*r)[0];
  BOOST_TEST(*row.text(0) == "a");
  // Integer columns come back as integers, not text.
  BOOST_TEST(std::holds_alternative<std::int64_t>(row[1]));
  BOOST_TEST(*row.int64(1) == -9000000000);
  BOOST_TEST(std::holds_alternative<std::int64_t>(row[2]));
  BOOST_TEST(row.is_null(3));
}

BOOST_AUTO_TEST_CASE(a_statement_is_prepared_once_per_text_and_built_text_is_not_cached) {
  scratch_db s("postgres");
  auto c = connect_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (k BIGINT PRIMARY KEY)").ok());
  BOOST_TEST(c->cached_statements() == 0u);
  for (std::int64_t i = 0; i < 5; ++i)
    BOOST_REQUIRE(c->exec("INSERT INTO t (k) VALUES ($1)", {i}).ok());
  BOOST_TEST(c->cached_statements() == 1u);
  // The server holds exactly one prepared statement for it.
  auto prepared = c->query_once("SELECT count(*) FROM pg_prepared_statements");
  BOOST_REQUIRE(prepared.ok());
  BOOST_TEST(*(*prepared)[0].int64(0) == 1);
  for (std::int64_t i = 5; i < 8; ++i)
    BOOST_REQUIRE(c->exec_once("INSERT INTO t (k) VALUES (" + std::to_string(i) + ")").ok());
  BOOST_TEST(c->cached_statements() == 1u);
  BOOST_TEST(count(*c, "t") == 8);
  BOOST_TEST(c->cached_statements() == 2u);
}

BOOST_AUTO_TEST_CASE(errors_map_to_the_db_errc_categories_and_no_exception_escapes) {
  scratch_db s("postgres");
  auto c = connect_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)").ok());
  BOOST_REQUIRE(
      c->exec("INSERT INTO t VALUES ($1, $2)", {std::string("a"), std::string("x")}).ok());
  auto dup = c->exec("INSERT INTO t VALUES ($1, $2)", {std::string("a"), std::string("y")});
  BOOST_REQUIRE(!dup.ok());
  BOOST_TEST(dup.error().code == db_errc::constraint);
  auto null = c->exec("INSERT INTO t VALUES ($1, $2)", {std::string("b"), sql_value{}});
  BOOST_REQUIRE(!null.ok());
  BOOST_TEST(null.error().code == db_errc::constraint);
  auto syntax = c->query("SELEKT 1");
  BOOST_REQUIRE(!syntax.ok());
  BOOST_TEST(syntax.error().code == db_errc::query_failed);
  auto missing = c->query_once("SELECT * FROM nope");
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == db_errc::query_failed);
  BOOST_TEST(!c->broken());
  // The server ends this session: the connection is lost, which is transient.
  auto killed = c->query_once("SELECT pg_terminate_backend(pg_backend_pid())");
  if (killed.ok()) killed = c->query_once("SELECT 1");
  BOOST_REQUIRE(!killed.ok());
  BOOST_TEST(killed.error().code == db_errc::unavailable);
  BOOST_TEST(c->broken());
}

BOOST_AUTO_TEST_CASE(a_deadlock_is_unavailable_so_the_caller_retries) {
  scratch_db s("postgres");
  auto a = connect_or_fail(s.location());
  auto b = connect_or_fail(s.location());
  BOOST_REQUIRE(a->exec_script("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT);"
                               "INSERT INTO t VALUES (1, 0), (2, 0);")
                    .ok());
  const std::string bump = "UPDATE t SET v = v + 1 WHERE k = $1";
  BOOST_REQUIRE(a->begin().ok());
  BOOST_REQUIRE(b->begin().ok());
  BOOST_REQUIRE(a->exec(bump, {std::int64_t{1}}).ok());
  BOOST_REQUIRE(b->exec(bump, {std::int64_t{2}}).ok());
  // Each now waits for the row the other holds; the server breaks the cycle by failing one.
  db_result<std::int64_t> a_second = std::int64_t{0};
  // The loser rolls back at once, which lets the winner through.
  std::thread other([&] {
    a_second = a->exec(bump, {std::int64_t{2}});
    if (!a_second.ok()) a->rollback();
  });
  auto b_second = b->exec(bump, {std::int64_t{1}});
  if (!b_second.ok()) b->rollback();
  other.join();
  BOOST_REQUIRE(a_second.ok() != b_second.ok());
  const auto& failed = a_second.ok() ? b_second.error() : a_second.error();
  BOOST_TEST(failed.code == db_errc::unavailable, failed.message);
  BOOST_TEST(failed.message.find("deadlock") != std::string::npos);
  a->rollback();
  b->rollback();
  BOOST_TEST(!a->broken());
  BOOST_TEST(!b->broken());
}

BOOST_AUTO_TEST_CASE(transactions_commit_roll_back_and_roll_back_when_dropped) {
  scratch_db s("postgres");
  auto c = connect_or_fail(s.location());
  auto other = connect_or_fail(s.location());
  BOOST_REQUIRE(c->exec_script("CREATE TABLE t (k BIGINT PRIMARY KEY)").ok());
  {
    auto tx = scoped_transaction<pg_connection>::begin(*c);
    BOOST_REQUIRE(tx.ok());
    BOOST_TEST(c->in_transaction());
    BOOST_REQUIRE(c->exec("INSERT INTO t VALUES ($1)", {std::int64_t{1}}).ok());
    BOOST_TEST(count(*other, "t") == 0);  // not visible before commit
  }                                       // dropped uncommitted
  BOOST_TEST(!c->in_transaction());
  BOOST_TEST(count(*c, "t") == 0);
  {
    auto tx = scoped_transaction<pg_connection>::begin(*c);
    BOOST_REQUIRE(tx.ok());
    BOOST_REQUIRE(c->exec("INSERT INTO t VALUES ($1)", {std::int64_t{2}}).ok());
    BOOST_REQUIRE(tx->commit().ok());
    BOOST_TEST(!tx->commit().ok());  // once only
  }
  BOOST_TEST(count(*other, "t") == 1);
  BOOST_REQUIRE(c->begin().ok());
  BOOST_TEST(!c->begin().ok());  // no nesting
  BOOST_REQUIRE(c->exec("INSERT INTO t VALUES ($1)", {std::int64_t{3}}).ok());
  c->rollback();
  c->rollback();  // harmless outside a transaction
  BOOST_TEST(count(*c, "t") == 1);
  // A statement prepared inside a rolled-back transaction still serves the next one.
  BOOST_REQUIRE(c->exec("INSERT INTO t VALUES ($1)", {std::int64_t{4}}).ok());
  BOOST_TEST(count(*c, "t") == 2);
}

BOOST_AUTO_TEST_CASE(array_parameters_carry_any_text_for_batch_statements) {
  scratch_db s("postgres");
  auto c = connect_or_fail(s.location());
  const std::vector<std::string> values{"plain", "with \"quotes\"",  "back\\slash",       "",
                                        "NULL",  "{braces}, commas", "h\xc3\xa9 \n tab\t"};
  pg_array texts;
  pg_array numbers;
  for (size_t i = 0; i < values.size(); ++i) {
    texts.add(values[i]);
    numbers.add(std::int64_t{-5} + static_cast<std::int64_t>(i));
  }
  auto r = c->query(
      "SELECT t, n FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS x(t, n, o) ORDER BY o",
      {std::move(texts).str(), std::move(numbers).str()});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_REQUIRE(r->size() == values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    BOOST_TEST(!(*r)[i].is_null(0));
    BOOST_TEST(*(*r)[i].text(0) == values[i]);
    BOOST_TEST(*(*r)[i].int64(1) == -5 + static_cast<std::int64_t>(i));
  }
  auto empty = c->query("SELECT count(*) FROM unnest($1::text[])", {pg_array().str()});
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(*(*empty)[0].int64(0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
