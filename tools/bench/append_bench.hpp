#pragma once
/// `certctl-bench append`: append throughput and latency of the event store under many
/// concurrent writers, each appending single events to its own stream with an exact expected
/// version (the shape of the server's per-certificate actors).

#include <string>
#include <vector>

namespace certctl::bench {

/// Exit codes: 0 done, 1 some appends failed, 2 usage or setup errors. The last line of
/// standard output is exactly "appends_per_s=<number>", for scripts.
int run_append(const std::vector<std::string>& args);

}  // namespace certctl::bench
