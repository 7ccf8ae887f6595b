#pragma once
/// Shared pieces of the Kafka tests: a scripted run of appends, reading a topic until a set
/// of event ids has arrived, and the checks every relay test makes on what it read.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infra/kafka/relay.hpp"
#include "infra/kafka/topic_reader.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::testing {

/// A temporary directory removed with the object.
struct temp_dir {
  temp_dir();
  ~temp_dir();
  std::filesystem::path path;
};

/// Appends `count` events round-robin over `streams` streams ("certificate-c<i>"), each with
/// an exact expected version, as entity actors do.
void append_script(store::event_store& s, int streams, int count);

/// Every event of the log, in position order.
std::vector<events::recorded_event> all_events(store::event_store& s);

/// Relay options for tests: quiet, fast checkpoints and quick reconnects.
kafka::relay_options test_relay_options(const std::string& bootstrap, const std::string& topic);

/// Reads `topic` until every event id of `expected` arrived (or `timeout`), then a little
/// longer to catch stray duplicates; returns the records in arrival order.
std::vector<kafka::consumed_record> read_until_complete(
    const std::string& bootstrap, const std::string& topic,
    const std::vector<events::recorded_event>& expected,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Boost checks: each expected event arrived; value, key and CloudEvents headers match; each
/// stream's events (first arrivals) are in stream order; every duplicate is byte-identical to
/// its first arrival; one key never spans two partitions. Returns the number of duplicates.
size_t check_published(const std::vector<kafka::consumed_record>& got,
                       const std::vector<events::recorded_event>& expected,
                       const std::string& source);

}  // namespace certctl::testing
