#pragma once
/// A real TLS endpoint for the tests that probe one (health checks, the network scanner):
/// `openssl s_server -www` serving `<base>.pem` / `<base>.key` on 127.0.0.1:`port`, and after
/// the leaf the certificates of `<base>.chain.pem` when that file exists.

#include <sys/types.h>

#include <string>

namespace certctl::integration {

/// True when something accepts TCP connections on 127.0.0.1:`port`.
bool accepting(int port);

class tls_endpoint {
 public:
  /// Starts the server and returns once it accepts (bounded: a test failure after ~5 s).
  tls_endpoint(const std::string& base, int port);
  ~tls_endpoint() { stop(); }
  tls_endpoint(const tls_endpoint&) = delete;
  tls_endpoint& operator=(const tls_endpoint&) = delete;

  /// Terminates the server and reaps it; idempotent.
  void stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace certctl::integration
