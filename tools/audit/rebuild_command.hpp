#pragma once
/// `certctl-audit rebuild-projections`: drops the read models of a store and replays them from
/// position 1 (DESIGN §6), e.g. after a projection bug was fixed or tables were damaged.

#include <string>
#include <vector>

namespace certctl::audit {

/// Exit codes: 0 rebuilt, 1 rebuilt but some events were skipped, 2 usage, store or database
/// errors.
int run_rebuild_projections(const std::vector<std::string>& args);

}  // namespace certctl::audit
