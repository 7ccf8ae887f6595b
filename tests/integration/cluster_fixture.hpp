#pragma once
/// A cluster on loopback for the integration tests (docs/cluster.md): a PostgreSQL schema of
/// its own on CERTCTL_TEST_POSTGRES_URL, librdkafka's mock Kafka cluster hosted by the test
/// process, one CA and one key-encryption key shared by every certctl-server node.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infra/kafka/mock_cluster.hpp"
#include "tests/integration/api.hpp"

namespace certctl::integration {

inline constexpr int commands_partitions = 12;

/// A schema of its own on the test server, dropped afterwards.
struct pg_schema {
  pg_schema();
  ~pg_schema();
  std::string base, name, url;
};

/// The CA every node signs with (cluster mode refuses per-node roots): dir/ca.crt, dir/ca.key.
void make_shared_ca(const std::string& dir);

/// The KEK every node is given (32 random bytes, mode 0600); returns its path.
std::string make_kek(const std::string& dir);

struct cluster_fixture {
  cluster_fixture();

  /// The environment of node `node_id`, plus `extra` (which wins).
  server_options node_options(const std::string& node_id,
                              const std::map<std::string, std::string>& extra = {}) const;
  /// Starts a node and waits for its /ready.
  void start_node(const std::string& node_id, const std::map<std::string, std::string>& extra = {});
  static void wait_ready(const server_process& node);

  temp_dir dir;
  pg_schema pg;
  std::unique_ptr<kafka::mock_cluster> kafka;
  std::string kek_path;
  std::string keygen_mode = "server";
  std::vector<std::unique_ptr<server_process>> nodes;
};

}  // namespace certctl::integration
