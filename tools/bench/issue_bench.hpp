#pragma once
/// `certctl-bench issue`: end-to-end issuance throughput of a running server. C keep-alive
/// HTTPS clients create N certificates; the run ends when all N are Active (server keygen mode),
/// so the figure covers create, key generation, signing and projection.
/// `--server` may list several nodes of one cluster (comma-separated): client thread t uses
/// node t % n, the Active poll the first.

#include <string>
#include <vector>

namespace certctl::bench {

/// Exit codes: 0 all issued, 1 some creations failed or did not become Active in time, 2 usage
/// or setup errors. The last line of standard output is exactly "issued_per_s=<number>".
int run_issue(const std::vector<std::string>& args);

}  // namespace certctl::bench
