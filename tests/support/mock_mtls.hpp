#pragma once
/// What the stand-ins for the CAs that authenticate API clients by TLS client certificate
/// (Entrust, GlobalSign Atlas, EJBCA) share: test PKI material for both sides of mutual TLS,
/// and an HTTPS server on 127.0.0.1 that requires a client certificate issued by the client
/// CA it is given (no certificate or another CA's: the handshake fails), and tells each
/// handler which client certificate was presented.

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "tests/support/mock_issuers.hpp"

namespace certctl::testing {

/// A client CA and a client certificate (EKU clientAuth) under it, files in `dir`.
struct mtls_client_identity {
  std::string ca_pem, ca_key_pem, ca_path;  ///< the CA the server trusts for clients
  std::string cert_path, key_path;          ///< the client's certificate and key (mode 0600)
  std::string common_name;
};

/// A fresh client CA named `name` with one client certificate for `cn`.
mtls_client_identity make_client_identity(const std::string& dir, const std::string& name,
                                          const std::string& cn);

/// Another client certificate under the same CA (for rotation), written over `cert_path` and
/// `key_path` by rename, as an operator's `mv -f` would.
void rotate_client_identity(mtls_client_identity& id, const std::string& new_cn);

/// HTTPS on 127.0.0.1:port, serving `serving` (mock_ca_material), requiring a client
/// certificate that chains to `client_ca_path` ("" = asks for none).
class mtls_server {
 public:
  mtls_server(const mock_ca_material& serving, const std::string& client_ca_path, int port);
  ~mtls_server();
  httplib::SSLServer& http() { return server_; }
  void start();
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::SSLServer server_;
  std::thread thread_;
  int port_;
};

/// The subject CN of the client certificate the request came with ("" when none).
std::string client_common_name(const httplib::Request& req);

/// What every vendor stand-in can be told to do, counted down per request where a count.
struct mock_ca_behaviour {
  int pending_polls = 0;               ///< orders stay pending for this many status polls
  bool approval_required = false;      ///< orders wait for approve() / reject()
  bool reject = false;                 ///< refuse the next requests with the vendor's 400
  int rate_limited = 0;                ///< answer this many requests 429 with Retry-After
  int unauthorised = 0;                ///< answer this many requests 401 (credentials refused)
  std::chrono::milliseconds delay{0};  ///< every request waits this long first (a hang)
};

/// Waits `b.delay`, then answers 429 (Retry-After: 7) or 401 while counted; true when it did
/// (the caller returns). `error_body` renders the vendor's error JSON for a status + message.
bool mock_interrupts(mock_ca_behaviour& b, std::mutex& mu, httplib::Response& res,
                     const std::function<std::string(int, const std::string&)>& error_body);

/// A leaf for `csr_pem` under the serving CA of `ca`, valid `seconds`; {pem, serial hex}.
std::pair<std::string, std::string> mock_issue(const mock_ca_material& ca,
                                               const std::string& csr_pem, std::int64_t seconds);

}  // namespace certctl::testing
