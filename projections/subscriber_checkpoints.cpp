#include "projections/subscriber_checkpoints.hpp"

namespace certctl::projections {

namespace {

db_result<done> ensure_table(sql::database& db) {
  auto r = db.exec(
      "CREATE TABLE IF NOT EXISTS event_subscriber_checkpoints (name TEXT PRIMARY KEY, "
      "position BIGINT NOT NULL)");
  if (!r) return r.error();
  return done{};
}

}  // namespace

db_result<std::int64_t> load_subscriber_position(sql::database& db, const std::string& name) {
  if (auto t = ensure_table(db); !t) return t.error();
  auto rows = db.query("SELECT position FROM event_subscriber_checkpoints WHERE name = ?", {name});
  if (!rows) return rows.error();
  if (rows->empty()) return std::int64_t{-1};
  return rows->front().int64(0).value_or(0);
}

db_result<done> save_subscriber_position(sql::database& db, const std::string& name,
                                         std::int64_t position) {
  if (auto t = ensure_table(db); !t) return t.error();
  auto r = db.exec(
      "INSERT INTO event_subscriber_checkpoints (name, position) VALUES (?, ?) ON CONFLICT "
      "(name) DO UPDATE SET position = excluded.position",
      {name, position});
  if (!r) return r.error();
  return done{};
}

}  // namespace certctl::projections
