#pragma once
/// `certctl agents list|get`: the deployment agents that report to the server.

#include <string>
#include <vector>

namespace certctl::client {

/// Runs `certctl agents ...`; `args` follow the word "agents". Returns the exit code.
int run_agents(const std::vector<std::string>& args);

}  // namespace certctl::client
