#pragma once
/// Runs an operator's CA script the way the OpenSSL / custom CA issuer needs it: as an argv
/// vector through posix_spawn (never a shell, so no argument is ever parsed as shell syntax),
/// with a minimal environment, stdin fed from memory, stdout and stderr captured up to caps,
/// and a wall-clock timeout after which the script's whole process group is killed.
///
/// check_script_path() applies the threat-model rules of docs/issuers.md before anything runs:
/// an absolute path, a regular executable file owned by root or this server's user and not
/// writable by group or others, and every directory above it owned by root or this user and
/// not writable by group or others (a world-writable directory passes only with the sticky
/// bit, which stops other users from replacing entries they do not own, and only if the next
/// entry is ours). So no other local user can swap the script or a directory on its path.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/result.hpp"

namespace certctl::connectors::openssl_ca {

struct path_refused {
  std::string message;  ///< names the path and the rule it breaks
};

/// The script's canonical path (symlinks resolved) when it passes the rules; why not otherwise.
certctl::result<std::string, path_refused> check_script_path(const std::string& path);

struct script_limits {
  std::chrono::milliseconds timeout{30000};
  std::size_t max_stdout = 1024 * 1024;  ///< a CRL of many entries is the largest output
  std::size_t max_stderr = 16 * 1024;    ///< kept for the error message, the rest dropped
};

struct script_result {
  int exit_code = -1;  ///< -1 when killed by a signal
  std::string out;
  std::string err;  ///< at most max_stderr bytes
};

enum class script_errc { spawn_failed, timeout, output_too_large, io_error };

struct script_error {
  script_errc code = script_errc::io_error;
  std::string message;
};

/// Runs argv[0] (an absolute path) with `argv`, the environment `env` ("NAME=value" each,
/// nothing inherited), `input` on stdin. A non-zero exit is a result, not an error.
certctl::result<script_result, script_error> run_script(const std::vector<std::string>& argv,
                                                        const std::vector<std::string>& env,
                                                        const std::string& input,
                                                        const script_limits& limits);

}  // namespace certctl::connectors::openssl_ca
