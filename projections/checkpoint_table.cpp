#include "projections/checkpoint_table.hpp"

namespace certctl::projections {

db_result<done> ensure_checkpoint_tables(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name TEXT PRIMARY KEY,
  position BIGINT NOT NULL,
  schema_version BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_skipped_events (
  name TEXT NOT NULL,
  position BIGINT NOT NULL,
  event_type TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (name, position)
);
)sql");
}

db_result<std::optional<checkpoint>> load_checkpoint(transaction& tx, const std::string& name,
                                                     bool lock) {
  std::string sql = "SELECT position, schema_version FROM projection_checkpoints WHERE name = ?";
  if (lock && tx.dialect() == sql_dialect::postgres) sql += " FOR UPDATE";
  auto r = tx.query(sql, {name});
  if (!r) return r.error();
  if (r->empty()) return std::optional<checkpoint>{};
  const auto& row = r->front();
  return std::optional<checkpoint>(
      checkpoint{row.int64(0).value_or(0), static_cast<int>(row.int64(1).value_or(0))});
}

db_result<std::map<std::string, checkpoint>> load_all_checkpoints(transaction& tx) {
  auto r = tx.query("SELECT name, position, schema_version FROM projection_checkpoints", {});
  if (!r) return r.error();
  std::map<std::string, checkpoint> out;
  for (const auto& row : *r)
    out[row.text(0).value_or("")] =
        checkpoint{row.int64(1).value_or(0), static_cast<int>(row.int64(2).value_or(0))};
  return out;
}

db_result<done> store_checkpoint(transaction& tx, const std::string& name, const checkpoint& cp) {
  auto r = tx.exec(
      "INSERT INTO projection_checkpoints (name, position, schema_version) VALUES (?, ?, ?) "
      "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
      "schema_version = excluded.schema_version",
      {name, cp.position, static_cast<std::int64_t>(cp.schema_version)});
  if (!r) return r.error();
  return done{};
}

db_result<done> record_skip(transaction& tx, const std::string& name, std::int64_t position,
                            const std::string& event_type, const std::string& message) {
  auto r = tx.exec(
      "INSERT INTO projection_skipped_events (name, position, event_type, message) "
      "VALUES (?, ?, ?, ?) ON CONFLICT (name, position) DO UPDATE SET "
      "event_type = excluded.event_type, message = excluded.message",
      {name, position, event_type, message});
  if (!r) return r.error();
  return done{};
}

db_result<done> clear_skips(transaction& tx, const std::string& name) {
  auto r = tx.exec("DELETE FROM projection_skipped_events WHERE name = ?", {name});
  if (!r) return r.error();
  return done{};
}

}  // namespace certctl::projections
