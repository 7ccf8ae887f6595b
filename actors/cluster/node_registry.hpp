#pragma once
/// The cluster's membership as the operators see it (GET /api/v1/cluster): each node writes
/// a heartbeat row to the shared database with the partitions it owns and its consumer lag.
/// Ownership itself is decided by the Kafka consumer group, never by this table; the table
/// only reports it (a row whose heartbeat is old belongs to a node that is down).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "infra/sql/database.hpp"

namespace certctl::cluster {

struct node_record {
  std::string node_id;
  std::string api_url;
  std::vector<int> partitions;  ///< owned at the last heartbeat
  std::int64_t lag = -1;        ///< commands not yet consumed on its partitions (-1: unknown)
  bool joined = false;          ///< in the consumer group
  events::timestamp_us started_at = 0;
  events::timestamp_us heartbeat_at = 0;
};

class node_registry {
 public:
  explicit node_registry(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

  sql::db_result<done> ensure_table();
  sql::db_result<done> heartbeat(const node_record& self);
  sql::db_result<std::vector<node_record>> nodes();

 private:
  std::shared_ptr<sql::database> db_;
};

}  // namespace certctl::cluster
