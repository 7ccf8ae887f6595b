#include "tools/bench/latency.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace certctl::bench {
namespace {

double nearest_rank(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string ms(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fms", us / 1000.0);
  return buf;
}

}  // namespace

latency_summary summarize(std::vector<double>& samples_us) {
  latency_summary s;
  s.count = samples_us.size();
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  s.p50_us = nearest_rank(samples_us, 0.50);
  s.p99_us = nearest_rank(samples_us, 0.99);
  s.max_us = samples_us.back();
  s.mean_us = std::accumulate(samples_us.begin(), samples_us.end(), 0.0) /
              static_cast<double>(samples_us.size());
  return s;
}

std::string to_string(const latency_summary& s) {
  return "p50=" + ms(s.p50_us) + " p99=" + ms(s.p99_us) + " max=" + ms(s.max_us) +
         " mean=" + ms(s.mean_us);
}

}  // namespace certctl::bench
