#pragma once
/// The command bus's private state, shared by command_bus.cpp (facade, lifecycle, commands
/// consumer) and command_bus_reply.cpp (producer, replies, pending sends).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "infra/kafka/command_bus.hpp"
#include "infra/kafka/detail/rdkafka.hpp"

namespace certctl::kafka::detail {

inline constexpr const char* request_id_header = "certctl-request-id";
inline constexpr const char* reply_to_header = "certctl-reply-to";
/// Wall-clock microseconds at produce time, for the transit figures of bus_timing only.
inline constexpr const char* sent_at_header = "certctl-sent-at-us";

/// Wall-clock microseconds since the epoch (comparable across the nodes of one machine).
inline std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// What a delivery report is about (the message opaque, owned by the report).
struct bus_delivery {
  bool is_reply = false;
  std::string request_id;  ///< command: the pending send to fail if delivery fails
  int partition = -1;      ///< reply: the command it answers, for the offset store
  std::int64_t offset = -1;
  std::uint64_t epoch = 0;
  std::chrono::steady_clock::time_point queued{};  ///< command: when send() produced it
};

/// bus_timing as atomics: written on the bus threads and by reply functions on any thread.
struct timing_counters {
  std::atomic<std::uint64_t> round_trips{0}, round_trip_us{0}, command_acks{0}, command_ack_us{0},
      replies{0}, reply_transit_us{0}, commands{0}, command_transit_us{0}, executed{0},
      execute_us{0};
  static void add(std::atomic<std::uint64_t>& n, std::atomic<std::uint64_t>& sum, std::int64_t us) {
    ++n;
    sum += static_cast<std::uint64_t>(us < 0 ? 0 : us);
  }
  /// The transit from the `sent_at_header` of `m` to now; false when it has none.
  static bool transit_of(const rd_kafka_message_t* m, std::int64_t& us);
};

/// Everything the clients and threads touch. Shared: a reply function handed to the
/// command handler keeps a weak reference, so an actor answering after the bus is gone does
/// nothing instead of touching freed memory. Threads use the raw pointer; stop() joins them.
struct bus_core : std::enable_shared_from_this<bus_core> {
  ~bus_core();

  using steady = std::chrono::steady_clock;

  command_bus_options opt;
  command_bus::command_handler on_command;
  command_bus::assignment_handler on_assignment;
  std::string reply_topic;

  handle_ptr producer;  ///< commands and replies
  handle_ptr consumer;  ///< group member on the commands topic
  handle_ptr replies;   ///< reads partition 0 of reply_topic; never joins a group

  std::atomic<int> partition_count{0};
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> joined{false};
  std::thread consumer_thread, reply_thread, producer_thread;

  // ---- ownership, written on the consumer thread (rebalance callback) ----
  mutable std::mutex owned_mu;
  std::vector<int> owned;
  bool reported_nonempty = false;            ///< consumer thread only
  std::set<std::string> known_reply_topics;  ///< consumer thread only

  // ---- offset store: only the answered prefix of each owned partition is stored ----
  struct progress {
    std::uint64_t epoch = 0;               ///< assignment that created it
    std::map<std::int64_t, bool> pending;  ///< offset -> answered, in offset order
  };
  std::mutex progress_mu;
  std::map<int, progress> progress_of;
  std::uint64_t next_epoch = 1;

  // ---- sends waiting for a reply ----
  struct pending_send {
    std::function<void(command_bus::send_result)> done;
    steady::time_point deadline;
    int partition = 0;
    steady::time_point sent{};
  };
  std::mutex pending_mu;
  std::unordered_map<std::string, pending_send> pending;
  bool pending_closed = false;  ///< set by stop(): later sends fail at once

  timing_counters timing;

  std::mutex log_mu;
  std::string last_logged;

  void log(const std::string& line);
  /// Logs a librdkafka error once per distinct text (outages repeat them every second).
  void log_once(const std::string& line);

  // command_bus.cpp
  void consume_loop();
  void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* parts);
  void on_record(const rd_kafka_message_t* m);
  /// The command at (partition, offset) of assignment `epoch` is answered or skipped: store
  /// the offset after the longest answered prefix.
  void complete(int partition, std::int64_t offset, std::uint64_t epoch);

  // command_bus_reply.cpp
  result<done, kafka_error> open_reply_topic(steady::time_point deadline);
  void reply_loop();
  void producer_loop();
  void on_delivery(const rd_kafka_message_t* m);
  void on_reply(const rd_kafka_message_t* m);
  void expire_pending();
  void fail_all_pending(const std::string& why);
  /// Takes the pending send out (nullopt-like: empty `done` when unknown).
  /// `sent` (when given) receives the time send() registered it.
  std::function<void(command_bus::send_result)> take_pending(const std::string& id,
                                                             steady::time_point* sent = nullptr);
  void send(int partition, const std::string& routing_key, std::string body,
            std::function<void(command_bus::send_result)> done);
  void produce_reply(const std::string& reply_to, const std::string& request_id, std::string body,
                     int partition, std::int64_t offset, std::uint64_t epoch);
};

/// librdkafka callbacks shared by the three clients (opaque = bus_core*).
void bus_log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf);
void bus_error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque);

/// Milliseconds left until `deadline`, at least 1 and at most `cap` (one call's timeout).
inline int ms_until(std::chrono::steady_clock::time_point deadline, int cap) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
  return static_cast<int>(left < 1 ? 1 : left > cap ? cap : left);
}

/// The first value of header `name`, if present.
bool header_value(const rd_kafka_message_t* m, const char* name, std::string& out);

}  // namespace certctl::kafka::detail

namespace certctl::kafka {

struct command_bus::impl {
  std::shared_ptr<detail::bus_core> core;
  std::mutex lifecycle_mu;  ///< serialises start() and stop()
};

}  // namespace certctl::kafka
