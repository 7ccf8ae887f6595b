#pragma once
/// `certctl jobs list|get|cancel`: the job queue (issuance, renewal, deployment, validation).

#include <string>
#include <vector>

namespace certctl::client {

/// Runs `certctl jobs ...`; `args` follow the word "jobs". Returns the exit code.
int run_jobs(const std::vector<std::string>& args);

}  // namespace certctl::client
