#pragma once
/// The built certctl-agent as an operator runs it: a subprocess with flags, its stderr (JSON
/// log lines) in a file, stopped by signal. For the agent end-to-end tests.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace certctl::integration {

class agent_process {
 public:
  /// Starts `certctl-agent` with `args` (flags), in an environment without the parent's
  /// CERTCTL_* variables plus `env`; its output goes to `log_path`.
  agent_process(std::vector<std::string> args, std::string log_path,
                std::map<std::string, std::string> env = {});
  /// SIGKILL if still running.
  ~agent_process();
  agent_process(const agent_process&) = delete;
  agent_process& operator=(const agent_process&) = delete;

  /// Waits up to `timeout` for the process to exit; its exit code, or -1 when it is still
  /// running (or died by a signal: -2).
  int wait_exit(std::chrono::milliseconds timeout);
  /// Sends `sig` (SIGTERM by default).
  void signal(int sig);
  bool running() const { return pid_ > 0; }
  /// What the agent logged so far.
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_path_;
};

}  // namespace certctl::integration
