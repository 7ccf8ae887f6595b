#pragma once
/// Helpers for the target peer tests (SSH, Java keystore, Postfix, Dovecot): a temporary
/// directory, throwaway daemons started by argv and stopped by pid, test certificates made by
/// the openssl CLI, and the skip rule (a missing peer program exits 77 on a developer machine
/// and fails under CI=true, where tools/setup.sh must have installed it).

#include <sys/types.h>

#include <string>
#include <vector>

namespace certctl::testing::targets {

/// A fresh directory under /tmp, removed (recursively) on destruction unless
/// CERTCTL_KEEP_TEST_DIRS is set.
struct scratch_dir {
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::string path;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

/// A daemon in the foreground (argv, stdout+stderr to `log_path`), stopped by SIGTERM to its
/// pid on destruction.
class daemon_process {
 public:
  daemon_process(const std::vector<std::string>& argv, const std::string& log_path);
  ~daemon_process();
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  /// Waits (bounded, polling connect) until 127.0.0.1:port accepts; false when the daemon
  /// exited or the bound passed.
  bool wait_for_port(int port, int seconds = 20);
  bool running();
  pid_t pid() const { return pid_; }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

/// A CA, and a leaf it signed for `cn`, made with the openssl CLI in `dir`.
struct test_certificate {
  std::string cert_pem;
  std::string key_pem;    ///< PKCS#8, unencrypted
  std::string chain_pem;  ///< the CA certificate
  std::string serial_hex;
  std::string fingerprint_sha256;  ///< "AB:CD:..." as openssl x509 -fingerprint prints it
};
test_certificate make_test_certificate(const std::string& dir, const std::string& cn);

/// Writes `bytes` to `path` (mode 0600).
void write_text(const std::string& path, const std::string& bytes);
std::string read_text(const std::string& path);

/// Exit code for main(): 0 when every program is on PATH (or an absolute path that exists);
/// otherwise prints what is missing and returns 77, or 1 under CI=true.
int require_programs(const std::vector<std::string>& programs);

}  // namespace certctl::testing::targets
