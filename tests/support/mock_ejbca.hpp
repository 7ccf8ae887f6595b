#pragma once
/// A local stand-in for Keyfactor EJBCA's REST API v1 (what connectors/issuers/ejbca speaks),
/// under /ejbca/ejbca-rest-api: HTTPS on 127.0.0.1 requiring a client certificate from the
/// test's client CA (mTLS mode) or taking any client with the configured bearer token (OAuth2
/// mode); GET /v1/ca, POST /v1/certificate/pkcs10enroll (body checked: CSR, CA name,
/// profiles, username, password; 201 with base64 DER, or 202 while approvals are required),
/// POST /v1/certificate/search (QUERY = username, CA), PUT /v1/certificate/{issuer DN}/
/// {serial}/revoke?reason=, errors as {"error_code", "error_message"}.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/mock_mtls.hpp"

namespace certctl::testing {

struct mock_ejbca_state {
  std::mutex mutex;
  mock_ca_behaviour behaviour;
  std::string ca_name = "ManagementCA";
  std::string subject_dn = "CN=EJBCA Test Issuing CA,O=Certctl Test,C=SE";
  std::string cert_profile = "SERVER", ee_profile = "TLS_SERVER";
  std::string bearer;  ///< OAuth2 mode: the token every request must carry
  struct issued {
    std::string username, pem, serial, revoked_reason;
  };
  std::vector<issued> certificates;
  struct waiting {
    std::string username, csr;
  };
  std::vector<waiting> awaiting_approval;
  int enroll_calls = 0, search_calls = 0;
  std::vector<std::string> revoked;  ///< serials
  std::vector<std::string> revoke_reasons, revoke_dns;
  std::string last_body;
  /// The administrator approves: every waiting request is executed (issued).
  void approve_all(const mock_ca_material& ca);
  void reject_all();
};

class mock_ejbca {
 public:
  /// `client_ca_path` "" = no client certificate asked for (OAuth2 mode).
  mock_ejbca(const mock_ca_material& ca, const std::string& client_ca_path, int port);
  ~mock_ejbca();
  std::string url() const;  ///< https://127.0.0.1:port/ejbca/ejbca-rest-api
  mock_ejbca_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_ejbca_state> state_;
  std::unique_ptr<mtls_server> server_;
};

}  // namespace certctl::testing
