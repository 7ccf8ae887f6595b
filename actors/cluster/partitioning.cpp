#include "actors/cluster/partitioning.hpp"

#include <cstdint>

namespace certctl::cluster {

int partition_of(std::string_view key, int partitions) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(partitions));
}

}  // namespace certctl::cluster
