#pragma once
/// The Kafka relay (DESIGN §8): publishes every committed event, in global position order, to
/// one topic as a CloudEvents record (cloudevents.hpp), keyed by stream id.
///
/// Delivery is at-least-once and nothing is lost:
///  - the producer is idempotent (enable.idempotence, acks=all, at most 5 requests in flight),
///    so librdkafka's own retries neither duplicate nor reorder within a partition;
///  - message.timeout.ms is 0 (infinite): a broker outage only delays delivery, the producer
///    retries until the cluster is back, and the relay stops reading the log once
///    `max_in_flight` events wait (bounded memory);
///  - the checkpoint (relay_checkpoints(name, position), in the log's own database) advances
///    only over the contiguous prefix of positions whose delivery reports succeeded; a restart
///    resumes after it, so whatever was produced but not yet confirmed is produced again, with
///    the same ce_id;
///  - a message that fails permanently (or a fatal idempotence error) makes the relay drop the
///    producer, wait a capped backoff, and produce again from the confirmed prefix with a new
///    producer. It never skips an event: a record the cluster refuses for ever (say, larger
///    than the broker's message.max.bytes) stalls the relay, visibly in status().last_error,
///    until an operator fixes the cause. Events after the failed one may then arrive twice,
///    and a consumer may see a later event of the same stream before the re-produced one;
///    de-duplicating by ce_id and ordering by ce_certctlposition restores the log.
///
/// One relay per log: it is a singleton on a single node. In a cluster it must run only on the
/// node that owns its name's partition (DESIGN §9, not built yet); two relays on one table
/// would each publish everything (still at-least-once, but twice the traffic).
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
#include "infra/sql/database.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::kafka {

struct relay_status {
  std::int64_t confirmed = 0;           ///< every position <= this was acknowledged by the cluster
  std::int64_t stored = 0;              ///< checkpoint written to relay_checkpoints
  std::int64_t produced = 0;            ///< last position handed to the producer
  std::uint64_t delivered = 0;          ///< successful delivery reports since start
  std::uint64_t failures = 0;           ///< permanent failures (each restarts the producer)
  std::uint64_t checkpoint_errors = 0;  ///< failed checkpoint writes (retried)
  std::string last_error;
};

struct relay_options {
  std::string name = "kafka";  ///< row in relay_checkpoints; one per relay
  std::string bootstrap_servers;
  std::string topic = "certctl.events";
  /// Passed to librdkafka after our defaults, so any property (security, batching, even our
  /// defaults) can be set. Overriding enable.idempotence, acks or message.timeout.ms weakens
  /// the guarantees above.
  std::vector<kafka_property> properties;
  std::string source;            ///< ce_source; empty = default_source() ("certctl://<hostname>")
  size_t batch_size = 500;       ///< events read from the log at once
  size_t max_in_flight = 20000;  ///< produced but unconfirmed events before reading pauses
  /// Confirmed progress is written at most this often (and on stop): each write is a
  /// transaction in the log's database, so a busy relay must not write one per event.
  std::chrono::milliseconds checkpoint_interval{200};
  /// Fallback wake-up; the store's subscription and librdkafka's queue wake the relay at once.
  std::chrono::milliseconds idle_wait{1000};
  std::chrono::milliseconds max_retry_backoff{10000};
  /// How long stop() waits for outstanding deliveries before giving up on them (they are
  /// produced again after a restart).
  std::chrono::milliseconds stop_timeout{5000};
  bool log_to_stderr = true;
  /// Called on the relay thread whenever the confirmed position moves (metrics: relay lag).
  std::function<void(const relay_status&)> on_progress;
};

class relay {
 public:
  /// Checks the options, creates the checkpoint table and reads the checkpoint. `store` must
  /// outlive the relay; `db` is the read database of the same log (sql::database::open(store_url)).
  static result<std::unique_ptr<relay>, kafka_error> create(store::event_store& store,
                                                            std::shared_ptr<sql::database> db,
                                                            relay_options options);
  ~relay();
  relay(const relay&) = delete;
  relay& operator=(const relay&) = delete;

  /// Starts the producer and the relay thread.
  result<done, kafka_error> start();
  /// Waits up to stop_timeout for outstanding deliveries, stores the checkpoint and joins.
  /// Idempotent; the destructor calls it.
  void stop();

  relay_status status() const;
  /// Events committed to the log but not yet confirmed by the cluster.
  result<std::int64_t, kafka_error> lag() const;
  /// Blocks until `position` is confirmed, at most `max`; true when it is.
  bool wait_for_confirmed(std::int64_t position, std::chrono::milliseconds max) const;

  struct impl;

 private:
  explicit relay(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// The stored checkpoint of relay `name` (0 when none). For tools and tests.
result<std::int64_t, kafka_error> load_relay_checkpoint(sql::database& db, const std::string& name);

}  // namespace certctl::kafka
