#pragma once
// A REST server on a loopback port for tests: plain HTTP or HTTPS with a throwaway self-signed
// certificate, three API keys (admin, operator, viewer) and a few sample routes.

#include <httplib.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateways/http/http_server.hpp"
#include "gateways/http/router.hpp"

#include "tests/support/subprocess.hpp"

namespace certctl::gateways::http::testing {

inline constexpr const char* admin_key = "admin-key-0123456789";
inline constexpr const char* operator_key = "operator-key-0123456789";
inline constexpr const char* viewer_key = "viewer-key-0123456789";

/// A fresh directory under /tmp, removed (recursively) on destruction.
struct temp_dir {
  temp_dir();
  ~temp_dir();
  std::string path;
};

/// Runs a shell command; standard output and error land together in `out`.
inline certctl::testing::process_result run_command(const std::string& command) {
  return certctl::testing::run_shell(command);
}

/// A self-signed P-256 certificate for 127.0.0.1 (also usable as its own CA), made with the
/// openssl CLI.
struct test_certificate {
  explicit test_certificate(const std::string& dir);
  std::string cert_file;
  std::string key_file;
};

class test_server {
 public:
  explicit test_server(bool tls, std::size_t max_body_bytes = 1024,
                       router_options extra = router_options{});
  ~test_server();

  /// A client for this server (trusting the test certificate when TLS).
  std::unique_ptr<httplib::Client> client() const;
  int port() const { return server_->port(); }
  const std::string& cert_file() const { return cert_->cert_file; }

  /// What /ready reports from now on.
  void set_ready(bool ready, std::string message = {});

  std::vector<auth_event> auth_events() const;
  std::vector<request_log_entry> log_entries() const;

 private:
  bool tls_;
  temp_dir dir_;
  std::unique_ptr<test_certificate> cert_;
  mutable std::mutex mutex_;
  bool ready_ = true;
  std::string not_ready_message_;
  std::vector<auth_event> auth_events_;
  std::vector<request_log_entry> log_;
  std::unique_ptr<router> router_;
  std::unique_ptr<http_server> server_;
};

}  // namespace certctl::gateways::http::testing
