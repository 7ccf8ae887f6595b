#pragma once
/// Validate and reload commands of file-based targets, run without a shell: a command is an
/// argv list handed to posix_spawnp, so nothing in it is ever interpreted (no expansion, no
/// redirection, no second command). Commands that arrive as one string (the reference's
/// `"nginx -t"` form) are split on blanks after refusing every shell metacharacter, so an
/// operator who writes `nginx -t && rm -rf /` gets an error naming the character instead of a
/// command that silently means something else than it reads.

#include <chrono>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::connectors::targets {

/// Splits `text` on blanks into an argv; refuses an empty command and any of
/// ; & | $ ` < > ( ) { } [ ] * ? ! ~ ' " \ # % and control characters, naming the first.
certctl::result<std::vector<std::string>, std::string> parse_command(const std::string& text);

struct command_outcome {
  int exit_code = -1;      ///< -1 when the program did not exit normally (signal, timeout)
  bool timed_out = false;  ///< killed after the timeout
  /// Standard output and error interleaved as written; when longer than the cap, the last
  /// `output_cap` bytes (a validator's verdict is at the end) after "[... N bytes cut]".
  std::string output;

  bool succeeded() const { return exit_code == 0 && !timed_out; }
  /// "`nginx -t` exited with 1: <output>" and the like, for a job's error message.
  std::string describe(const std::vector<std::string>& argv) const;
};

/// Runs `argv` (argv[0] looked up on PATH) with stdin from /dev/null in its own process
/// group; after `timeout` the whole group gets SIGKILL. A program that cannot be started is
/// exit code 127 with the reason in `output`, as a shell would report it.
command_outcome run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            std::size_t output_cap = 8 * 1024);

/// `argv` joined with blanks, for messages.
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace certctl::connectors::targets
