#pragma once
/// `certctl-audit verify`: recomputes the hash chain over the whole log (DESIGN §7).

#include <string>
#include <vector>

namespace certctl::audit {

/// Exit codes: 0 the chain is intact, 1 it is broken, 2 usage or store errors.
int run_verify(const std::vector<std::string>& args);

}  // namespace certctl::audit
