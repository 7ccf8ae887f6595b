#pragma once
/// Opens a fresh, empty store of a given backend for one test, and further handles on the
/// same log where the backend allows (separate writers, as separate nodes would have).

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "infra/store/event_store.hpp"

namespace certctl::testing {

/// The backends every conformance case runs against. PostgreSQL needs
/// CERTCTL_TEST_POSTGRES_URL (the README's test command starts a throwaway server and sets it).
inline std::vector<std::string> conformance_backends() {
  return {"memory", "sqlite", "postgres"};
}

class store_fixture {
 public:
  explicit store_fixture(const std::string& backend, store::store_options options = {});
  ~store_fixture();

  store::event_store& store() { return *store_; }
  /// URL of this fixture's log (empty for memory, which cannot be shared).
  const std::string& url() const { return url_; }
  /// Another store object on the same log with its own writer; nullptr for memory.
  std::unique_ptr<store::event_store> open_another(store::store_options options = {}) const;
  /// Runs SQL directly against the backing database; fails the test on a database error.
  void exec_sql(const std::string& sql) const;
  /// The same, returning the database's error message instead ("" when it succeeded).
  std::string try_exec_sql(const std::string& sql) const;
  /// Runs `sql` (UPDATE/DELETE on events) in one transaction with the append-only triggers
  /// dropped before and re-created after it: the retention procedure docs/architecture.md
  /// ("Audit") documents, and what a tamperer with DDL rights does.
  void exec_sql_unguarded(const std::string& sql) const;

  const std::string backend;

 private:
  std::string url_;
  std::string schema_;
  std::filesystem::path dir_;
  std::unique_ptr<store::event_store> store_;
};

/// A proposed event with a small JSON payload.
events::proposed_event make_event(const std::string& type, const std::string& payload = "{}");

}  // namespace certctl::testing
