#pragma once
/// A local stand-in for Entrust CA Gateway's REST API v1 (what connectors/issuers/entrust
/// speaks): HTTPS on 127.0.0.1 requiring a client certificate from the test's client CA, the
/// client's CN checked against the authorised one (403 otherwise), the enrollment body
/// checked (csr parses, profileId as configured, subjectAltNames, validityPeriod "P<n>D"),
/// enrollments issued at once (200) or held as PENDING / PENDING_APPROVAL (201) until polled
/// enough or approved, REJECTED by an approver, errors as {"errors":[{code, message}]}.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/mock_mtls.hpp"

namespace certctl::testing {

struct mock_entrust_state {
  std::mutex mutex;
  mock_ca_behaviour behaviour;
  std::string ca_id = "CA-TEST-1";
  std::string profile_id;     ///< required profileId when not empty
  std::string authorised_cn;  ///< the client certificate CN allowed to call
  struct enrollment {
    std::string csr, status, cert, serial;
    int polls_left = 0;
  };
  std::map<std::string, enrollment> enrollments;  ///< by trackingId
  int enroll_calls = 0, status_calls = 0;
  std::vector<std::string> revoked, revoke_reasons;  ///< serial hex as received, reason
  std::vector<std::string> client_cns;               ///< per request, in order
  std::string last_body;
  void approve_all();
  void reject_all();
};

class mock_entrust {
 public:
  mock_entrust(const mock_ca_material& ca, const std::string& client_ca_path,
               const std::string& authorised_cn, int port);
  ~mock_entrust();
  std::string url() const;  ///< the api_url: https://127.0.0.1:port/cagw
  mock_entrust_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_entrust_state> state_;
  std::unique_ptr<mtls_server> server_;
};

}  // namespace certctl::testing
