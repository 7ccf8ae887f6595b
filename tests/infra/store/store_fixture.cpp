#include "tests/infra/store/store_fixture.hpp"

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <pqxx/pqxx>

#include "infra/crypto/random.hpp"

namespace certctl::testing {

namespace {
std::string postgres_base_url() {
  const char* url = std::getenv("CERTCTL_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0')
    BOOST_FAIL(
        "CERTCTL_TEST_POSTGRES_URL is not set: run the suite with the README's test "
        "command, which starts PostgreSQL");
  return url;
}
}  // namespace

store_fixture::store_fixture(const std::string& b, store::store_options options) : backend(b) {
  if (backend == "memory") {
    url_ = "memory:";
  } else if (backend == "sqlite") {
    dir_ = std::filesystem::temp_directory_path() / ("certctl-test-" + crypto::random_hex(6));
    std::filesystem::create_directories(dir_);
    url_ = "sqlite://" + (dir_ / "events.db").string();
  } else {
    // A schema per test keeps tests independent on one server.
    const std::string base = postgres_base_url();
    schema_ = "t_" + crypto::random_hex(6);
    pqxx::connection c(base);
    pqxx::work tx(c);
    tx.exec0("CREATE SCHEMA " + schema_);
    tx.commit();
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
           schema_;
  }
  auto opened = store::open_event_store(url_, options);
  if (!opened) BOOST_FAIL("cannot open " + backend + " store: " + opened.error().message);
  store_ = std::move(opened).value();
}

store_fixture::~store_fixture() {
  store_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  if (!schema_.empty()) {
    try {
      pqxx::connection c(std::getenv("CERTCTL_TEST_POSTGRES_URL"));
      pqxx::work tx(c);
      tx.exec0("DROP SCHEMA " + schema_ + " CASCADE");
      tx.commit();
    } catch (const std::exception&) {
      // A leftover schema in a throwaway test database harms nothing.
    }
  }
}

std::unique_ptr<store::event_store> store_fixture::open_another(
    store::store_options options) const {
  if (backend == "memory") return nullptr;
  auto opened = store::open_event_store(url_, options);
  if (!opened) BOOST_FAIL("cannot open another " + backend + " store: " + opened.error().message);
  return std::move(opened).value();
}

std::string store_fixture::try_exec_sql(const std::string& sql) const {
  if (backend == "sqlite") {
    sqlite3* db = nullptr;
    sqlite3_open((dir_ / "events.db").c_str(), &db);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "sqlite error";
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? std::string() : msg;
  }
  if (backend == "postgres") {
    try {
      pqxx::connection c(url_);
      pqxx::work tx(c);
      tx.exec0(sql);
      tx.commit();
      return {};
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  BOOST_FAIL("the memory backend has no SQL");
  return {};
}

void store_fixture::exec_sql(const std::string& sql) const {
  if (auto err = try_exec_sql(sql); !err.empty()) BOOST_FAIL(backend + ": " + err);
}

void store_fixture::exec_sql_unguarded(const std::string& sql) const {
  // Kept in step with the retention procedure in docs/architecture.md ("Audit").
  if (backend == "sqlite") {
    exec_sql("BEGIN IMMEDIATE; DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; " +
             sql +
             "; CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT "
             "RAISE(ABORT, 'events are append-only: UPDATE refused'); END; "
             "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT "
             "RAISE(ABORT, 'events are append-only: DELETE refused'); END; COMMIT;");
  } else {
    exec_sql("DROP TRIGGER events_append_only ON events; " + sql +
             "; CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events "
             "FOR EACH STATEMENT EXECUTE FUNCTION certctl_events_append_only();");
  }
}

events::proposed_event make_event(const std::string& type, const std::string& payload) {
  events::proposed_event e;
  e.type = type;
  e.payload = payload;
  e.occurred_at = 1790000000000000;
  e.principal = "test";
  return e;
}

}  // namespace certctl::testing
