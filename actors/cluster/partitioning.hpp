#pragma once
/// Which partition of the commands topic owns a key (DESIGN §9): an entity's stream id, or a
/// singleton's name. The hash is ours (FNV-1a, 64 bit), not Kafka's default partitioner, so
/// the mapping is stable across client libraries and versions; every node must agree on it.

#include <string_view>

namespace certctl::cluster {

/// In [0, partitions); partitions must be positive.
int partition_of(std::string_view key, int partitions);

}  // namespace certctl::cluster
