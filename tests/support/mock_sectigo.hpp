#pragma once
/// A local HTTPS stand-in for Sectigo Certificate Manager (no SCM tenant can run here),
/// written from the published SCM REST API (ssl/v1): enroll, status, collect, revoke by
/// serial, decline, types, with Sectigo's error body {"code": -N, "description"}. It checks
/// the customerUri / login / password headers and the request shapes we send, signs with an
/// in-test CA, and can be told to answer pending N times (Applied, then collect's -183 "not
/// ready"), to require approval (Requested), to decline, to refuse every login (401), to
/// rate-limit (429 with Retry-After), to forget requests (404) and to hang. 127.0.0.1 only.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/mock_issuers.hpp"

namespace certctl::testing {

struct mock_sectigo_request {
  std::string csr_pem, sans;
  std::int64_t cert_type = 0, term = 0, org_id = 0;
  std::string status = "Applied";  ///< SCM's word; "Issued" once signed
  std::string cert_pem, serial_hex;
  int polls = 0;
};

struct mock_sectigo_state {
  std::mutex mutex;
  std::string customer_uri = "certctl-test", login = "api-user";
  std::string password = "sectigo-pw-9f8e7d6c5b4a";
  std::int64_t org_id = 1234, cert_type = 423;
  int approval_polls = 0;      ///< answer "Requested" this many status polls first
  int pending_polls = 0;       ///< then "Applied" this many
  int not_ready_collects = 0;  ///< then "Issued" whose collect answers -183 this many times
  bool decline = false;        ///< requests turn "Declined" at their first poll
  bool refuse_enroll = false;  ///< enroll answers 400 (-9, a name the org may not use)
  bool forget = false;         ///< status lookups answer 404
  int rate_limit = 0;          ///< answer this many requests 429 first
  int retry_after_seconds = 2;
  std::chrono::milliseconds delay{0};
  std::map<std::int64_t, mock_sectigo_request> requests;  ///< by sslId
  int status_polls = 0, collects = 0, unauthorised = 0;
  std::vector<std::string> revoked_serials;
  std::vector<std::int64_t> revoke_codes, declined;
  std::string last_enroll_body, last_error;
};

class mock_sectigo {
 public:
  /// Listens on the first free port of [port, port + 9] (url() names it).
  mock_sectigo(const mock_ca_material& ca, int port);
  ~mock_sectigo();
  /// https://127.0.0.1:port/api
  std::string url() const;
  mock_sectigo_state& state() { return *state_; }

 private:
  struct server;
  std::shared_ptr<mock_sectigo_state> state_;
  std::unique_ptr<server> server_;
  int port_;
};

}  // namespace certctl::testing
