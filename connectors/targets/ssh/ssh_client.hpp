#pragma once
/// One authenticated SSH connection to a target host (libssh, behind a pimpl so no libssh
/// header leaks): SFTP file operations and remote commands. The TCP connection is opened by
/// the outbound guard (infra/net), so CERTCTL_OUTBOUND_ALLOW_CIDRS governs where it may go;
/// libssh runs over that socket and never resolves or connects itself.
///
/// Host key policy: the server's key must be listed for "host" (or "[host]:port") in the
/// configured known_hosts file, or in the SSH defaults when none is configured; an unknown
/// or changed key refuses the connection before any credential is sent. Only the explicit
/// insecure_skip_host_key_verify skips the check. Nothing is ever added to known_hosts.
///
/// Not thread-safe: one deployment uses one client at a time.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector_error.hpp"
#include "connectors/targets/ssh/ssh_config.hpp"
#include "events/result.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::ssh {

struct remote_output {
  int exit_status = -1;  ///< -1 when the command was killed or its status was not reported
  std::string output;    ///< stdout then stderr, cut at the cap
};

class ssh_client {
 public:
  /// Connects through `guard`, verifies the host key, authenticates. Errors: unavailable
  /// (refused, timed out, unreachable), failed (host key unknown or changed, authentication
  /// refused), invalid_config (a key file that cannot be read). Messages never carry a secret.
  static certctl::result<std::unique_ptr<ssh_client>, connector_error> connect(
      const ssh_target_config& config, const net::outbound_guard& guard);

  ~ssh_client();
  ssh_client(const ssh_client&) = delete;
  ssh_client& operator=(const ssh_client&) = delete;

  /// The file's bytes, or nullopt when it does not exist. Larger than `max_bytes` is failed.
  certctl::result<std::optional<std::string>, connector_error> read_file(const std::string& path,
                                                                         std::size_t max_bytes);
  /// Creates or truncates `path` (mode 0600 while written), writes `bytes`, fsyncs when the
  /// server offers fsync@openssh.com, then sets `mode`.
  certctl::result<done, connector_error> write_file(const std::string& path,
                                                    const std::string& bytes, int mode);
  /// Renames over an existing `to`: SFTP RENAME, else rename(2) by a remote `mv -f` (libssh
  /// 0.10 lacks posix-rename@openssh.com, and plain SFTP RENAME refuses an existing target).
  certctl::result<done, connector_error> rename(const std::string& from, const std::string& to);
  /// Removes a file; a missing file is not an error.
  certctl::result<done, connector_error> remove(const std::string& path);
  /// Names in `dir` (no "." and "..").
  certctl::result<std::vector<std::string>, connector_error> list_dir(const std::string& dir);
  /// Runs `command` through the remote user's shell; the caller has checked it
  /// (remote_safety.hpp). Output beyond `max_output` bytes is dropped.
  certctl::result<remote_output, connector_error> run(const std::string& command,
                                                      std::size_t max_output = 16 * 1024);

 private:
  struct impl;
  explicit ssh_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::connectors::ssh
