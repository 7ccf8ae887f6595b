#pragma once
/// `certctl-audit replay`: rebuilds an entity inventory as it was at a past instant by folding
/// the log through the domain aggregates, for compliance reviews (DESIGN §7).

#include <string>
#include <vector>

namespace certctl::audit {

/// Exit codes: 0 printed, 2 usage or store errors.
int run_replay(const std::vector<std::string>& args);

}  // namespace certctl::audit
