#pragma once
/// certctl-bench coldstart: time to ready and resident memory of a server over a store of
/// N managed certificates (docs/benchmarks.md, "Cold start and memory at scale").

#include <string>
#include <vector>

namespace certctl::bench {

int run_coldstart(const std::vector<std::string>& args);

}  // namespace certctl::bench
