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

void store_fixture::exec_sql(const std::string& sql) const {
  if (backend == "sqlite") {
    sqlite3* db = nullptr;
    sqlite3_open((dir_ / "events.db").c_str(), &db);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) BOOST_FAIL("sqlite: " + msg);
  } else if (backend == "postgres") {
    pqxx::connection c(url_);
    pqxx::work tx(c);
    tx.exec0(sql);
    tx.commit();
  } else {
    BOOST_FAIL("the memory backend has no SQL");
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
