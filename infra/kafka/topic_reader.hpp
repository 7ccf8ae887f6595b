#pragma once
/// Reads every partition of one topic from the beginning, without a consumer group (no 3 s
/// group join on the mock cluster, no committed offsets). For tests, benchmarks and tools
/// that check what the relay published; services should use a consumer group.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/result.hpp"
#include "infra/kafka/kafka_error.hpp"

namespace certctl::kafka {

struct consumed_record {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  std::int32_t partition = 0;
  std::int64_t offset = 0;

  /// Value of the first header called `name`.
  std::optional<std::string> header(const std::string& name) const;
};

class topic_reader {
 public:
  /// Waits up to `metadata_timeout` for the topic to exist, then assigns all its partitions
  /// at their beginning. `properties` go to librdkafka after ours (fetch.wait.max.ms etc.).
  static result<std::unique_ptr<topic_reader>, kafka_error> open(
      const std::string& bootstrap_servers, const std::string& topic,
      const std::vector<kafka_property>& properties = {},
      std::chrono::milliseconds metadata_timeout = std::chrono::seconds(10));
  ~topic_reader();
  topic_reader(const topic_reader&) = delete;
  topic_reader& operator=(const topic_reader&) = delete;

  /// The next record, or nullopt when none arrives within `timeout`. Errors the client
  /// recovers from by itself (a broker down) are not reported.
  result<std::optional<consumed_record>, kafka_error> poll(std::chrono::milliseconds timeout);

  int partition_count() const;

  struct impl;

 private:
  explicit topic_reader(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::kafka
