#pragma once
/// `certctl-audit verify`: recomputes the hash chain (DESIGN §7) from position 1 or a verified
/// checkpoint, then checks it against signed checkpoints and an expected head.

#include <string>
#include <vector>

namespace certctl::audit {

/// Exit codes: 0 the chain and its anchors are intact, 1 broken, 2 usage or store errors.
int run_verify(const std::vector<std::string>& args);

}  // namespace certctl::audit
