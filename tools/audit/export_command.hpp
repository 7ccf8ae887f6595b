#pragma once
/// `certctl-audit export`: writes the log, or a time/type slice of it, as JSON lines or CSV.

#include <string>
#include <vector>

namespace certctl::audit {

/// Exit codes: 0 written, 2 usage, store or output errors.
int run_export(const std::vector<std::string>& args);

}  // namespace certctl::audit
