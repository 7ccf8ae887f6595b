#pragma once
/// Running programs from tests: the built binaries, openssl, sqlite3. One implementation for
/// every test binary, so quoting and exit-status rules are the same everywhere.

#include <string>
#include <vector>

namespace certctl::testing {

struct process_result {
  int exit_code = -1;  ///< -1 when the program did not exit normally
  std::string out;     ///< standard output (plus standard error unless captured separately)
  std::string err;     ///< standard error, when captured separately
};

/// Single-quotes `s` for /bin/sh.
std::string shell_quote(const std::string& s);

/// `program` followed by each argument, quoted.
std::string command_line(const std::string& program, const std::vector<std::string>& args);

/// Runs `command` through /bin/sh. With `separate_stderr`, standard error goes to `err`;
/// otherwise it is merged into `out`.
process_result run_shell(const std::string& command, bool separate_stderr = false);

/// Path of a program this build produced, e.g. built_binary("tools/audit/certctl-audit").
std::string built_binary(const std::string& relative);

}  // namespace certctl::testing
