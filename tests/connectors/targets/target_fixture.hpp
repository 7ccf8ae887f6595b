#pragma once
/// Shared by the deployment target tests: throwaway directories, test certificates (a CA and
/// leaves it signs, made in-process), free loopback ports, and daemons started as child
/// processes and stopped by their pid.

#include <sys/types.h>

#include <string>
#include <vector>

#include "connectors/registry.hpp"
#include "connectors/targets/target.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::testing::targets {

/// A fresh directory under /tmp, removed with its contents on destruction (kept when
/// CERTCTL_KEEP_TEST_DIRS is set).
struct scratch_dir {
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::string path;
};

struct test_certificate {
  std::string cert_pem;
  std::string chain_pem;  ///< the issuing test CA
  std::string key_pem;
  std::string fingerprint;  ///< SHA-256 of the leaf DER, lower-case hex
  std::string serial_hex;
};

/// A leaf for `cn` (SANs: cn and 127.0.0.1) signed by one test CA shared by the process.
test_certificate make_certificate(const std::string& cn);

/// The request a deploy job would send for `c`.
connectors::deployment_request request_for(const test_certificate& c);

/// A loopback TCP port that was free a moment ago.
int free_port();

/// The whole file, or "" when it cannot be read.
std::string slurp(const std::string& path);
void write_text(const std::string& path, const std::string& text);
/// Permission bits of `path`, or -1.
int mode_of(const std::string& path);

/// True when `program` is on PATH (or an executable absolute path).
bool have_program(const std::string& program);

/// A daemon started by the test; killed (SIGTERM, then SIGKILL) on destruction.
class daemon_process {
 public:
  /// Starts argv with stdout/stderr appended to `log_path`.
  daemon_process(const std::vector<std::string>& argv, const std::string& log_path);
  ~daemon_process();
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;
  pid_t pid() const { return pid_; }
  bool running() const;

 private:
  pid_t pid_ = -1;
};

/// Waits (bounded, 15 s) until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port);

/// SHA-256 fingerprint of what 127.0.0.1:port serves (TLS, SNI `server_name`), read with
/// the openssl CLI; "" when nothing could be read.
std::string served_fingerprint(int port, const std::string& server_name = "localhost");

/// served_fingerprint, asked again (up to 5 s) while it differs from `expected`: for daemons
/// whose old worker keeps accepting for a moment after a reload (HAProxy master-worker).
std::string eventually_served(int port, const std::string& expected,
                              const std::string& server_name = "localhost");

/// The guard of a test agent: loopback allowed (CERTCTL_OUTBOUND_ALLOW_CIDRS=127.0.0.1/32).
const net::outbound_guard& loopback_guard();

/// Builds a target the way the agent does: the built-in registry (with `guard`, or none),
/// the config checked against the type's schema, then its factory. Throws with the
/// violation or the factory's error, so a test fails naming it.
std::shared_ptr<connectors::target> make_target(const std::string& type, const std::string& id,
                                                const std::string& config_json,
                                                const net::outbound_guard* guard);

/// Exit code the peer tests use for "daemon not installed" (ctest SKIP_RETURN_CODE; CI=true
/// turns it into a failure in CMake).
inline constexpr int skip_exit_code = 77;

}  // namespace certctl::testing::targets
