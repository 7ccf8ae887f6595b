#pragma once
/// `certctl certs list|get|create|renew|revoke|export`: the managed-certificate endpoints.

#include <string>
#include <vector>

namespace certctl::client {

/// Runs `certctl certs ...`; `args` follow the word "certs". Returns the exit code.
int run_certs(const std::vector<std::string>& args);

}  // namespace certctl::client
