#pragma once
/// The built certctl-server as an operator runs it: a subprocess on a temp data dir and a free
/// port, reached over HTTPS that trusts the server's own CA bundle. Tests see only what a real
/// client sees (stdout lines, HTTP responses, files in the data dir).

#include <httplib.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/subprocess.hpp"

namespace certctl::integration {

/// Keys every fixture server accepts (CERTCTL_API_KEYS_NAMED); names show up as principals.
inline constexpr const char* admin_key = "it-admin-key-0123456789abcdef";
inline constexpr const char* operator_key = "it-operator-key-0123456789abcdef";
inline constexpr const char* viewer_key = "it-viewer-key-0123456789abcdef";
inline constexpr const char* default_named_keys =
    "it-admin:it-admin-key-0123456789abcdef:admin,"
    "it-operator:it-operator-key-0123456789abcdef:operator,"
    "it-viewer:it-viewer-key-0123456789abcdef:viewer";

/// A fresh directory under the system temp dir, removed recursively on destruction unless
/// CERTCTL_KEEP_TEST_DIRS is set (for post-mortems of a failed run).
struct temp_dir {
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string path;
};

struct server_options {
  std::string keygen_mode = "server";
  /// Empty: no configured keys, so a fresh data dir makes the server print a generated admin key.
  std::string named_keys = default_named_keys;
  std::map<std::string, std::string> extra_env;
};

/// One server subprocess. The data dir outlives the process so a test can restart on it.
class server_process {
 public:
  /// Starts the server on `data_dir` (created if missing) and waits for its startup lines.
  server_process(std::string data_dir, server_options options = {});
  /// Stops the server (SIGTERM, then SIGKILL after a timeout) if it is still running.
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// Starts again on the same data dir (after stop() or kill()); new port, same keys.
  void start();
  /// SIGTERM; SIGKILL when the process has not exited within `grace_ms`. Returns the wait status.
  int stop(int grace_ms = 10000);
  /// SIGKILL at once (crash simulation).
  void kill();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  ///< for signals (SIGHUP); -1 when not running

  int port() const { return port_; }
  const std::string& ca_bundle() const { return ca_bundle_; }
  const std::string& data_dir() const { return data_dir_; }
  /// The key printed on first start without configured keys; empty otherwise.
  const std::string& generated_admin_key() const { return generated_admin_key_; }
  /// Everything the server wrote to stdout and stderr across all starts.
  std::string logs() const;

  /// A keep-alive HTTPS client that verifies the server certificate against the CA bundle and
  /// sends `Authorization: Bearer <api_key>` (none when empty).
  std::unique_ptr<httplib::SSLClient> client(const std::string& api_key = admin_key) const;

 private:
  std::string data_dir_;
  server_options options_;
  pid_t pid_ = -1;
  int starts_ = 0;
  int port_ = 0;
  std::string ca_bundle_;
  std::string generated_admin_key_;
};

using testing::built_binary;
using testing::shell_quote;
/// Runs `command` through /bin/sh; standard output and error land together in `out`.
inline testing::process_result run_command(const std::string& command) {
  return testing::run_shell(command);
}

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace certctl::integration
