#pragma once
/// Private helpers over librdkafka's C API. Only infra/kafka's .cpp files include this header:
/// librdkafka never reaches the public headers.

// Its type-check macros use GNU statement expressions, which -Wpedantic refuses in C++.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <vector>

#include "events/result.hpp"
#include "infra/kafka/kafka_error.hpp"

namespace certctl::kafka::detail {

struct conf_deleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;

struct handle_deleter {
  void operator()(rd_kafka_t* k) const { rd_kafka_destroy(k); }
};
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;

/// A fresh configuration with `properties` set in order (later ones win); the error names the
/// property librdkafka refused.
result<conf_ptr, kafka_error> make_conf(const std::vector<kafka_property>& properties);

/// Creates a client; `conf` is consumed on success, as rd_kafka_new does.
result<handle_ptr, kafka_error> make_handle(rd_kafka_type_t type, conf_ptr conf);

/// Log callback that drops librdkafka's log lines (tests and tools that print their own).
void quiet_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

/// Partition count of `topic` as `rk` sees it; 0 (and `error`) while unknown.
int partition_count_of(rd_kafka_t* rk, const std::string& topic, std::string& error,
                       int timeout_ms = 2000);

}  // namespace certctl::kafka::detail
