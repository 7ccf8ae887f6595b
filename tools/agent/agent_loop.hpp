#pragma once
/// The agent's main loop, one thread: heartbeat every heartbeat_interval, work poll every
/// poll_interval, discovery scan at start and every discovery_interval. While the server fails
/// (no answer or 5xx) each activity backs off, doubling from its interval up to max_backoff.
/// A 410 Gone from the server (the agent was retired) ends the loop for good; stop() (SIGTERM)
/// ends it after the item in hand, so a deployment is never cut off half way by the loop.

#include <condition_variable>
#include <mutex>
#include <string>

#include "connectors/registry.hpp"
#include "tools/agent/key_dir.hpp"
#include "tools/agent/options.hpp"
#include "tools/agent/server_client.hpp"
#include "tools/agent/work_runner.hpp"

namespace certctl::agent {

/// Why run() returned; main() turns it into the exit code.
enum class loop_end {
  stopped,        ///< stop() was called (exit 0)
  retired,        ///< the server said 410 (exit 0: nothing to restart)
  not_registered  ///< the server does not know this agent id (exit 2: fix the config)
};

class agent_loop {
 public:
  /// All references must outlive the loop.
  agent_loop(const agent_options& options, server_client& server, key_dir& keys,
             const connectors::connector_registry& registry, log_fn log);

  loop_end run();
  /// Thread-safe; run() returns soon after.
  void stop();

 private:
  enum class step { ok, failed, retired, not_registered };
  step heartbeat();
  step poll();
  step discover();
  bool wait_until(std::chrono::steady_clock::time_point t);

  const agent_options& options_;
  server_client& server_;
  log_fn log_;
  work_runner runner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  ///< guarded by mu_
};

/// The agent's version string (the project version).
const char* agent_version();

}  // namespace certctl::agent
