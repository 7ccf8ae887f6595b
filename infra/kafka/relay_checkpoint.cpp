#include "infra/kafka/detail/checkpoint.hpp"
#include "infra/kafka/relay.hpp"

namespace certctl::kafka {
namespace detail {

result<done, kafka_error> ensure_checkpoint_table(sql::database& db) {
  auto r = db.exec(
      "CREATE TABLE IF NOT EXISTS relay_checkpoints ("
      "name TEXT PRIMARY KEY, position BIGINT NOT NULL)");
  if (!r) return kafka_error{"relay_checkpoints: " + r.error().message};
  return done{};
}

result<done, kafka_error> store_checkpoint(sql::database& db, const std::string& name,
                                           std::int64_t position) {
  // Never moves backwards, even if two relays were (wrongly) started on one log.
  auto r = db.exec(
      "INSERT INTO relay_checkpoints (name, position) VALUES (?, ?) "
      "ON CONFLICT (name) DO UPDATE SET position = excluded.position "
      "WHERE relay_checkpoints.position < excluded.position",
      {name, position});
  if (!r) return kafka_error{"relay checkpoint: " + r.error().message};
  return done{};
}

}  // namespace detail

result<std::int64_t, kafka_error> load_relay_checkpoint(sql::database& db,
                                                        const std::string& name) {
  if (auto made = detail::ensure_checkpoint_table(db); !made) return made.error();
  auto r = db.query("SELECT position FROM relay_checkpoints WHERE name = ?", {name});
  if (!r) return kafka_error{"relay checkpoint: " + r.error().message};
  if (r->empty()) return std::int64_t{0};
  return r->front().int64(0).value_or(0);
}

}  // namespace certctl::kafka
