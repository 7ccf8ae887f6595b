#pragma once
/// A fresh, empty database per test for infra/sql: a SQLite file in its own directory, a
/// PostgreSQL schema of its own on CERTCTL_TEST_POSTGRES_URL, or `memory:`.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "infra/sql/database.hpp"

namespace certctl::testing {

/// Backends of sql::database. PostgreSQL needs CERTCTL_TEST_POSTGRES_URL (the README's test
/// command starts a throwaway server and sets it).
inline std::vector<std::string> sql_backends() {
  return {"memory", "sqlite", "postgres"};
}

/// The server URL from CERTCTL_TEST_POSTGRES_URL; fails the test when it is not set.
std::string postgres_test_url();

class scratch_db {
 public:
  explicit scratch_db(const std::string& backend);
  ~scratch_db();
  scratch_db(const scratch_db&) = delete;
  scratch_db& operator=(const scratch_db&) = delete;

  /// A store URL for sql::database::open.
  const std::string& url() const { return url_; }
  /// The SQLite file (sqlite) or the libpq URI with this test's search_path (postgres).
  const std::string& location() const { return location_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string url_;
  std::string location_;
  std::string schema_;
  std::filesystem::path dir_;
};

/// A scratch database opened through sql::database.
struct db_env {
  explicit db_env(const std::string& backend);
  scratch_db scratch;
  std::shared_ptr<sql::database> db;
};

}  // namespace certctl::testing
