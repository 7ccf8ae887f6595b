#pragma once
/// `certctl status`: is the server up and ready, which build is it, and (with an API key) the
/// dashboard summary. The summary endpoint may not exist on every server; its absence is
/// reported, not treated as a failure.

#include <string>
#include <vector>

namespace certctl::client {

/// Runs `certctl status`; `args` follow the word "status". Exit 0 when healthy and ready.
int run_status(const std::vector<std::string>& args);

}  // namespace certctl::client
