#pragma once
/// This node's part in a cluster (DESIGN §9).
///
///  - Ownership: the Kafka consumer group on the commands topic assigns partitions; an entity
///    belongs to partition_of(stream id). The node is the runtime's command_router: commands
///    for entities it owns run here, the others travel through the commands topic to their
///    owner and its answer comes back (kafka::command_bus).
///  - Fencing: when partitions move, the entities of lost partitions are released; a node
///    that has not noticed yet can still append only at the entity's current version, and a
///    redelivered command finds its command id already recorded (every forwarded command gets
///    one), so nothing takes effect twice.
///  - Singletons (the Kafka relay, the projector): each runs on the owner of
///    partition_of("singleton:" + name) and is stopped before another node can own it... as far
///    as a consumer group can promise: a node cut off from Kafka keeps running until its
///    session times out, so singletons must tolerate a brief overlap (both do: the relay is
///    at-least-once, the projector fences on its checkpoint row).
///  - Not ready until the node has joined the group; Kafka unreachable at start is retried in
///    the background, it never stops the process.
///
/// Threads: the bus's consumer thread reports assignments; a control thread here starts and
/// stops singletons, releases entities and writes the heartbeat, so the consumer thread never
/// blocks on them.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/cluster/node_registry.hpp"
#include "actors/runtime/entity_runtime.hpp"
#include "infra/clock.hpp"
#include "infra/kafka/command_bus.hpp"

namespace certctl::cluster {

struct node_options {
  kafka::command_bus_options bus;
  std::string api_url;  ///< where this node's REST API is reachable (shown to operators)
  std::chrono::milliseconds heartbeat_interval{std::chrono::seconds(2)};
  std::chrono::milliseconds max_connect_backoff{std::chrono::seconds(10)};
  bool log_to_stderr = true;
};

/// Work that must run on exactly one node: started when this node gains the owning partition,
/// stopped when it loses it. Both run on the control thread and may block briefly.
struct singleton {
  std::string name;
  std::function<void()> start;
  std::function<void()> stop;
};

struct singleton_status {
  std::string name;
  int partition = 0;
  bool running_here = false;
};

struct node_status {
  std::string node_id;
  bool joined = false;
  std::string last_error;  ///< why the node is not (yet) in the cluster
  int partitions = 0;      ///< of the commands topic; 0 before the first connection
  std::vector<int> owned;
  std::vector<kafka::partition_lag> lag;
  std::vector<singleton_status> singletons;
  std::uint64_t forwarded = 0;  ///< commands sent to other owners
  /// The same by entity kind; workflows as "workflow:<name>" (docs/cluster.md "Affinity").
  std::map<std::string, std::uint64_t> forwarded_by_kind;
  /// POST /api/v1/certificates requests this node received (certificate.create workflows
  /// started here, wherever they ran): forwarded / this = forwarded commands per certificate.
  std::uint64_t certificate_requests = 0;
  std::uint64_t received = 0;  ///< commands executed for callers on other nodes (or this one)
  std::uint64_t rejected = 0;  ///< malformed command records
  kafka::bus_timing timing;    ///< where forwarded commands spend their time
};

class cluster_node final : public actors::command_router {
 public:
  cluster_node(actors::entity_runtime& runtime, std::shared_ptr<sql::database> db,
               const infra::clock& clock, node_options options);
  ~cluster_node() override;
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  /// Before start().
  void add_singleton(singleton s);
  /// Runs once, on the control thread, after the first assignment (e.g. bootstrap commands).
  void on_first_join(std::function<void()> fn);

  /// Creates the registry table, installs this node as the runtime's router and starts
  /// connecting in the background. Fails only for a database error.
  result<done, std::string> start();
  /// Stops singletons, leaves the group (others take over at once); idempotent.
  void stop();

  bool ready() const;
  node_status status() const;
  sql::db_result<std::vector<node_record>> members() { return registry_.nodes(); }
  const node_options& options() const;

  bool is_local(const std::string& stream_id) const override;
  void forward(const std::string& kind, domain::command cmd,
               actors::command_callback done) override;

 private:
  struct impl;
  node_registry registry_;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::cluster
