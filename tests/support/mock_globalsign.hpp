#pragma once
/// A local stand-in for the GlobalSign Atlas HVCA Certificate Management API v2 (what
/// connectors/issuers/globalsign speaks): HTTPS on 127.0.0.1 requiring a client certificate
/// from the test's client CA, POST /v2/login with the API key and secret minting bearer
/// tokens, every other call checked for a live token (401 otherwise), the certificate request
/// checked (validity, subject_dn.common_name, san, csr), 201 with Location, the certificate
/// available after N polls (404 before), revoke by DELETE, errors as {"description"}.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/support/mock_mtls.hpp"

namespace certctl::testing {

struct mock_globalsign_state {
  std::mutex mutex;
  mock_ca_behaviour behaviour;
  std::string api_key = "atlas-key", api_secret = "atlas-secret";
  std::set<std::string> tokens;  ///< live access tokens; clear() expires them
  int logins = 0, request_calls = 0;
  struct certificate {
    std::string pem, status = "ISSUED";
    int polls_left = 0;
  };
  std::map<std::string, certificate> certificates;  ///< by serial (upper-case hex)
  std::vector<std::string> revoked;
  std::vector<std::string> client_cns;
  std::string last_body;
};

class mock_globalsign {
 public:
  mock_globalsign(const mock_ca_material& ca, const std::string& client_ca_path, int port);
  ~mock_globalsign();
  std::string url() const;  ///< the api_url: https://127.0.0.1:port/v2
  mock_globalsign_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_globalsign_state> state_;
  std::unique_ptr<mtls_server> server_;
};

}  // namespace certctl::testing
