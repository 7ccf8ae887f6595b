#pragma once
/// librdkafka's in-process mock cluster (rdkafka_mock.h): a Kafka-protocol cluster on loopback
/// ports for tests, benchmarks and the certctl-mock-kafka tool. Other processes (and kcat)
/// reach it through bootstrap_servers() while this object lives.
///
/// Limits (librdkafka 2.0.2): about 5 MiB kept per partition, older data silently dropped;
/// no CreateTopics admin API (create_topic() or auto-creation instead); the first consumer
/// group join takes about 3 s.

#include <cstdint>
#include <memory>
#include <string>

#include "events/result.hpp"
#include "infra/kafka/kafka_error.hpp"

namespace certctl::kafka {

class mock_cluster {
 public:
  /// Starts `brokers` brokers (ids 1..brokers), listening on 127.0.0.1.
  static result<std::unique_ptr<mock_cluster>, kafka_error> start(int brokers);
  ~mock_cluster();
  mock_cluster(const mock_cluster&) = delete;
  mock_cluster& operator=(const mock_cluster&) = delete;

  /// "127.0.0.1:port,127.0.0.1:port,..."
  std::string bootstrap_servers() const;
  /// Replication is capped at the broker count.
  result<done, kafka_error> create_topic(const std::string& topic, int partitions,
                                         int replication = 3);
  /// Simulated outage: the broker (-1 = all) drops its connections and refuses new ones.
  result<done, kafka_error> set_down(std::int32_t broker_id = -1);
  result<done, kafka_error> set_up(std::int32_t broker_id = -1);

  struct impl;

 private:
  explicit mock_cluster(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::kafka
