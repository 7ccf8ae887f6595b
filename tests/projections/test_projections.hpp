#pragma once
/// Helpers for the projection tests: a read database next to a fresh store of each backend,
/// and a counting projection with fault injection.

#include <atomic>
#include <memory>
#include <string>

#include "infra/sql/database.hpp"
#include "projections/projection.hpp"
#include "tests/infra/store/store_fixture.hpp"

namespace certctl::testing {

/// A fresh log (store_fixture) and the read database that belongs to it.
struct projection_env {
  explicit projection_env(const std::string& backend);
  store_fixture log;
  std::shared_ptr<sql::database> db;

  /// Appends one event of `type` to `stream`; returns its position.
  std::int64_t append(const std::string& stream, const std::string& type = "thing.happened",
                      const std::string& payload = "{}", const std::string& principal = "test",
                      events::timestamp_us occurred_at = 1790000000000000);
  /// All rows of `table`, ordered by every column, for equality checks.
  sql::rows dump(const std::string& table, int columns);
};

/// Counts events per stream into table `<name>` (stream_id, n, last_position).
/// Fault injection: a payload containing "poison" fails (not transiently) after writing its
/// row; the event at `transient_at` fails transiently after writing its row.
class counting_projection final : public projections::projection {
 public:
  explicit counting_projection(std::string name = "stream_counts", int version = 1)
      : name_(std::move(name)), version_(version) {}

  std::string name() const override { return name_; }
  int schema_version() const override { return version_; }
  sql::db_result<done> create_schema(sql::transaction& tx) override;
  sql::db_result<done> drop_schema(sql::transaction& tx) override;
  projections::apply_result apply(sql::transaction& tx, const events::recorded_event& e) override;

  std::atomic<int> applied{0};  ///< successful apply() calls
  std::atomic<int> creates{0};  ///< create_schema() calls
  std::atomic<std::int64_t> transient_at{0};

 private:
  std::string name_;
  int version_;
};

}  // namespace certctl::testing
