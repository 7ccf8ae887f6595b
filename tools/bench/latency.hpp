#pragma once
/// Latency samples and their summary; percentiles by nearest rank on sorted samples.

#include <chrono>
#include <string>
#include <vector>

namespace certctl::bench {

struct latency_summary {
  size_t count = 0;
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  double mean_us = 0;
};

/// Summarises `samples_us` (sorted in place).
latency_summary summarize(std::vector<double>& samples_us);

/// "p50=1.23ms p99=4.56ms max=7.89ms mean=2.00ms"
std::string to_string(const latency_summary& s);

}  // namespace certctl::bench
