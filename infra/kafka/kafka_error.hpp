#pragma once
/// The error type of the Kafka adapters (infra/kafka).

#include <string>

namespace certctl::kafka {

struct kafka_error {
  std::string message;  ///< librdkafka's text, prefixed with what we were doing
};

/// One librdkafka configuration property, e.g. {"security.protocol", "ssl"}.
struct kafka_property {
  std::string name;
  std::string value;
};

}  // namespace certctl::kafka
