#pragma once
/// A local HTTPS stand-in for DigiCert CertCentral (no DigiCert service can run here), written
/// from the published Services API v2 reference: the order, order status, certificate
/// download, revoke, order status update (cancel) and user endpoints under /services/v2, with
/// DigiCert's error body {"errors":[{"code","message"}]}. It checks the X-DC-DEVKEY header and
/// the request shapes we send, signs with an in-test CA, and can be told to answer pending N
/// times, to require approval, to reject, to refuse every key (401), to rate-limit (429 with
/// Retry-After), to forget orders (404) and to hang. 127.0.0.1 only.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/mock_issuers.hpp"

namespace certctl::testing {

struct mock_digicert_order {
  std::string product, common_name, csr_pem;
  std::vector<std::string> dns_names;
  std::string status = "pending";  ///< DigiCert's word; "issued" once signed
  std::int64_t certificate_id = 0;
  std::string cert_pem, serial_hex;
  std::int64_t renewal_of = 0;
  int polls = 0;
};

struct mock_digicert_state {
  std::mutex mutex;
  std::string api_key = "dc-test-devkey-0123456789";
  int pending_polls = 0;               ///< answer "pending" (processing) this many polls first
  int approval_polls = 0;              ///< before that, answer "needs_approval" this many polls
  bool reject = false;                 ///< orders turn "rejected" at their first poll
  bool refuse_orders = false;          ///< POST order answers 400 invalid_dns_name
  bool issue_immediately = false;      ///< POST order answers with certificate_chain
  bool forget_orders = false;          ///< order lookups answer 404
  int rate_limit = 0;                  ///< answer this many requests 429 first
  int retry_after_seconds = 2;         ///< the 429's Retry-After
  std::chrono::milliseconds delay{0};  ///< every request waits this long first (hang)
  std::map<std::int64_t, mock_digicert_order> orders;  ///< by order id
  int status_polls = 0;
  int unauthorised = 0;  ///< requests refused for their key
  std::vector<std::string> revoked_serials, revoke_reasons;
  std::vector<std::int64_t> cancelled;
  std::string last_order_body;  ///< the JSON of the last POST order
  std::string last_error;       ///< why the last request was refused
};

class mock_digicert {
 public:
  /// Listens on the first free port of [port, port + 9] (url() names it).
  mock_digicert(const mock_ca_material& ca, int port);
  ~mock_digicert();
  /// https://127.0.0.1:port/services/v2
  std::string url() const;
  mock_digicert_state& state() { return *state_; }

 private:
  struct server;
  std::shared_ptr<mock_digicert_state> state_;
  std::unique_ptr<server> server_;
  int port_;
};

}  // namespace certctl::testing
