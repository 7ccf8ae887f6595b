#pragma once
/// One deployment at a time per target: a mutex per target id inside the process (two jobs
/// for the same target on two worker threads) and an flock on a lock file beside the target's
/// files (two agents, or an agent and an operator's script that uses the same file).

#include <memory>
#include <mutex>
#include <string>

#include "events/result.hpp"

namespace certctl::connectors::targets {

class target_lock {
 public:
  /// Blocks until both locks are held. `lock_path`: the lock file (created 0600 if missing).
  static certctl::result<std::unique_ptr<target_lock>, std::string> acquire(
      const std::string& target_id, const std::string& lock_path);
  ~target_lock();
  target_lock(const target_lock&) = delete;
  target_lock& operator=(const target_lock&) = delete;

 private:
  target_lock(std::shared_ptr<std::mutex> mu, int fd) : mu_(std::move(mu)), fd_(fd) {}
  std::shared_ptr<std::mutex> mu_;
  int fd_ = -1;
};

}  // namespace certctl::connectors::targets
