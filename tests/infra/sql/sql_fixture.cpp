#include "tests/infra/sql/sql_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <random>

#include "infra/sql/postgres.hpp"

namespace certctl::testing {
namespace {

/// Unique across the concurrent test processes sharing one server and one temp directory.
std::string unique_suffix() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return std::to_string(rd() % 1000000) + "_" + std::to_string(++counter);
}

}  // namespace

std::string postgres_test_url() {
  const char* url = std::getenv("CERTCTL_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0')
    BOOST_FAIL(
        "CERTCTL_TEST_POSTGRES_URL is not set: run the suite with the README's test "
        "command, which starts PostgreSQL");
  return url;
}

scratch_db::scratch_db(const std::string& backend) {
  if (backend == "memory") {
    url_ = "memory:";
  } else if (backend == "sqlite") {
    dir_ = std::filesystem::temp_directory_path() / ("certctl-sql-" + unique_suffix());
    std::filesystem::create_directories(dir_);
    location_ = (dir_ / "test.db").string();
    url_ = "sqlite://" + location_;
  } else {
    const std::string base = postgres_test_url();
    schema_ = "sql_" + unique_suffix();
    auto c = sql::pg_connection::connect(base);
    if (!c) BOOST_FAIL(c.error().message);
    if (auto made = (*c)->exec_script("CREATE SCHEMA " + schema_); !made)
      BOOST_FAIL(made.error().message);
    location_ = base + (base.find('?') == std::string::npos ? "?" : "&") +
                "options=-csearch_path%3D" + schema_;
    url_ = location_;
  }
}

scratch_db::~scratch_db() {
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  if (!schema_.empty()) {
    // A leftover schema in a throwaway test database harms nothing, so errors are ignored.
    if (auto c = sql::pg_connection::connect(std::getenv("CERTCTL_TEST_POSTGRES_URL")))
      (void)(*c)->exec_script("DROP SCHEMA " + schema_ + " CASCADE");
  }
}

db_env::db_env(const std::string& backend) : scratch(backend) {
  auto opened = sql::database::open(scratch.url());
  if (!opened) BOOST_FAIL("cannot open " + backend + " database: " + opened.error().message);
  db = std::move(opened).value();
}

}  // namespace certctl::testing
