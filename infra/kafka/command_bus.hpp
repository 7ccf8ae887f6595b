#pragma once
/// The cluster's command transport (DESIGN §9) over Kafka.
///
/// Ownership: every node joins one consumer group on the commands topic; the group's
/// assignment says which partitions a node owns. `on_assignment` reports the full owned set
/// after every rebalance (and an empty set when the node loses everything or the bus stops).
///
/// Forwarding: `send(partition, body, done)` produces `body` to that partition with a fresh
/// request id and this node's reply address (its own reply topic); whichever node owns the
/// partition receives it through `on_command`, executes it and calls `reply`, which produces
/// the answer to the caller's reply topic. `done` runs once: with the reply body, or with an
/// error when the produce fails or no reply came within `request_timeout`.
///
/// Delivery is at-least-once: offsets are stored only once a command was answered (or found
/// malformed), and auto-committed; a new owner after a crash may receive a command again. The
/// cluster layer makes that harmless with command ids (DESIGN §9). Records without the
/// request-id/reply-to headers are logged and skipped, never fatal.
///
/// Wire format (documented in docs/cluster.md): record key = routing key chosen by the caller
/// (entity stream id), headers `certctl-request-id`, `certctl-reply-to`, value = body. Replies:
/// key = request id, header `certctl-request-id`, value = reply body.
///
/// librdkafka stays behind the pimpl; this header is safe to include anywhere.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "events/result.hpp"
#include "infra/kafka/kafka_error.hpp"

namespace certctl::kafka {

struct command_bus_options {
  std::string bootstrap_servers;
  /// Passed to librdkafka after our defaults (producer and consumers alike).
  std::vector<kafka_property> properties;
  std::string node_id;  ///< unique per node; also the consumer group member's client.id
  std::string commands_topic = "certctl.commands";
  std::string group_id = "certctl-cluster";
  /// Replies to this node arrive on reply_topic_prefix + node_id (auto-created).
  std::string reply_topic_prefix = "certctl.replies.";
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  /// Consumer-group liveness: a node that stops heartbeating loses its partitions after this.
  std::chrono::milliseconds session_timeout{std::chrono::seconds(10)};
  /// The consumers' fetch.wait.max.ms. A real broker answers a fetch as soon as a record
  /// arrives, so there this only bounds idle fetch requests; librdkafka's mock cluster holds
  /// an empty fetch for the whole wait, so there it is the floor of every hop.
  std::chrono::milliseconds fetch_wait{5};
  bool log_to_stderr = true;
};

/// One partition's consumption state, for GET /api/v1/cluster.
struct partition_lag {
  int partition = 0;
  std::int64_t position = -1;        ///< next offset this node will read (-1: unknown)
  std::int64_t high_watermark = -1;  ///< end of the partition (-1: unknown)
  std::int64_t lag() const {
    return position < 0 || high_watermark < 0 ? -1 : high_watermark - position;
  }
};

/// Cumulative timings of the forwarding path, to find where a forwarded command spends its
/// time (docs/cluster.md "Forward timing"). Sums in microseconds. The transit figures compare
/// the sender's wall clock (header `certctl-sent-at-us`) with the receiver's, so they are
/// exact only where the nodes' clocks agree (one machine, or NTP to well under a millisecond).
struct bus_timing {
  // Caller side.
  std::uint64_t round_trips = 0;       ///< sends answered by their owner
  std::uint64_t round_trip_us = 0;     ///< send() to the reply handed to `done`
  std::uint64_t command_acks = 0;      ///< commands the brokers acknowledged
  std::uint64_t command_ack_us = 0;    ///< send() to that acknowledgement
  std::uint64_t replies = 0;           ///< replies consumed that carried a send time
  std::uint64_t reply_transit_us = 0;  ///< reply produced on the owner to consumed here
  // Owner side.
  std::uint64_t commands = 0;            ///< commands consumed that carried a send time
  std::uint64_t command_transit_us = 0;  ///< command produced by its caller to consumed here
  std::uint64_t executed = 0;            ///< commands answered here
  std::uint64_t execute_us = 0;          ///< consumed to answered (the owner's own work)
};

class command_bus {
 public:
  using reply_fn = std::function<void(std::string reply_body)>;
  /// Runs on the bus's consumer thread; must not block (hand the work to actors and call
  /// `reply` later, from any thread, exactly once).
  using command_handler = std::function<void(int partition, std::string body, reply_fn reply)>;
  using assignment_handler = std::function<void(const std::vector<int>& owned)>;
  using send_result = result<std::string, kafka_error>;

  /// Checks the options and creates the clients; nothing is consumed before start().
  static result<std::unique_ptr<command_bus>, kafka_error> create(command_bus_options options,
                                                                  command_handler on_command,
                                                                  assignment_handler on_assignment);
  ~command_bus();
  command_bus(const command_bus&) = delete;
  command_bus& operator=(const command_bus&) = delete;

  /// Reads the commands topic's metadata (it must exist), subscribes to it and starts the
  /// consumer and reply threads. Fails when the cluster is unreachable within the timeout.
  result<done, kafka_error> start(
      std::chrono::milliseconds metadata_timeout = std::chrono::seconds(10));
  /// Leaves the group (so the others rebalance at once), fails pending sends; idempotent.
  void stop();

  /// Partition count of the commands topic (known after start()).
  int partitions() const;
  /// Owned partitions, ascending (empty until the first assignment).
  std::vector<int> owned() const;
  /// True once this node received its first assignment since start().
  bool joined() const;

  /// `routing_key` becomes the record key. `done` may run on any thread.
  void send(int partition, const std::string& routing_key, std::string body,
            std::function<void(send_result)> done);

  std::vector<partition_lag> lag() const;
  bus_timing timing() const;

  struct impl;

 private:
  explicit command_bus(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::kafka
