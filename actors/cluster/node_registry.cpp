#include "actors/cluster/node_registry.hpp"

#include <sstream>

namespace certctl::cluster {
namespace {

std::string join_partitions(const std::vector<int>& ps) {
  std::string out;
  for (int p : ps) {
    if (!out.empty()) out += ',';
    out += std::to_string(p);
  }
  return out;
}

std::vector<int> split_partitions(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      out.push_back(std::stoi(item));
    } catch (const std::exception&) {
      // A row written by a newer node in another format: show the rest.
    }
  }
  return out;
}

}  // namespace

sql::db_result<done> node_registry::ensure_table() {
  auto r = db_->exec(
      "CREATE TABLE IF NOT EXISTS cluster_nodes (node_id TEXT PRIMARY KEY, api_url TEXT NOT "
      "NULL, partitions TEXT NOT NULL, lag BIGINT NOT NULL, joined BIGINT NOT NULL, started_at "
      "BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)");
  if (!r) return r.error();
  return done{};
}

sql::db_result<done> node_registry::heartbeat(const node_record& self) {
  auto r = db_->exec(
      "INSERT INTO cluster_nodes (node_id, api_url, partitions, lag, joined, started_at, "
      "heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (node_id) DO UPDATE SET api_url = "
      "excluded.api_url, partitions = excluded.partitions, lag = excluded.lag, joined = "
      "excluded.joined, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at",
      {self.node_id, self.api_url, join_partitions(self.partitions), self.lag,
       std::int64_t{self.joined ? 1 : 0}, self.started_at, self.heartbeat_at});
  if (!r) return r.error();
  return done{};
}

sql::db_result<std::vector<node_record>> node_registry::nodes() {
  auto rows = db_->query(
      "SELECT node_id, api_url, partitions, lag, joined, started_at, heartbeat_at FROM "
      "cluster_nodes ORDER BY node_id");
  if (!rows) return rows.error();
  std::vector<node_record> out;
  for (const auto& row : *rows) {
    node_record n;
    n.node_id = row.text(0).value_or("");
    n.api_url = row.text(1).value_or("");
    n.partitions = split_partitions(row.text(2).value_or(""));
    n.lag = row.int64(3).value_or(-1);
    n.joined = row.int64(4).value_or(0) != 0;
    n.started_at = row.int64(5).value_or(0);
    n.heartbeat_at = row.int64(6).value_or(0);
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace certctl::cluster
