#pragma once
/// `certctl-bench stream`: commit-to-consumer latency of the Kafka event stream. Appends
/// events at a fixed rate to a fresh log with the relay running, while a consumer reads the
/// topic and measures, per event, consume time minus occurred_at (stamped just before the
/// append, so the figure includes the commit itself).

#include <string>
#include <vector>

namespace certctl::bench {

/// Exit codes: 0 done, 1 events missing or failed appends, 2 usage or setup errors. The last
/// two lines of standard output are "stream_p50_ms=<number>" and "stream_p99_ms=<number>".
int run_stream(const std::vector<std::string>& args);

}  // namespace certctl::bench
