#pragma once
/// Local HTTPS stand-ins for the three cloud secret stores, written from the vendors' API
/// documentation, with the checks the real services make on what we send:
///  - AWS Secrets Manager (JSON 1.1, API 2017-10-17): ListSecrets with tag/name filters and
///    NextToken paging, GetSecretValue; every request's SigV4 Authorization recomputed and
///    compared, its scope (date, region, service) and X-Amz-Date freshness checked.
///  - Azure Key Vault (REST 7.4) and Microsoft identity platform v2.0: client-credentials token
///    (client id, secret, scope https://vault.azure.net/.default), then Bearer-authenticated
///    GET /certificates (nextLink paging) and GET /certificates/{name}/.
///  - GCP Secret Manager (v1) and Google OAuth 2.0 for service accounts: the RS256 JWT
///    assertion verified against the account's key (kid, iss, aud, scope, iat/exp), then
///    Bearer-authenticated secrets.list (label filter, pageToken) and versions/latest:access.
/// They listen on 127.0.0.1 only, on the port the test gives, and record why they refused.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/mock_issuers.hpp"

namespace certctl::testing {

class cloud_server;

struct mock_aws_secret {
  std::string name;
  std::map<std::string, std::string> tags;
  std::string secret_string;  ///< or:
  std::string secret_binary;  ///< raw bytes, sent base64
};

struct mock_aws_state {
  std::mutex mutex;
  std::string region = "us-east-1";
  std::string access_key_id = "AKIDEXAMPLE";
  std::string secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  std::vector<mock_aws_secret> secrets;
  int page_size = 2;  ///< ListSecrets answers at most this many per page
  int list_calls = 0, get_calls = 0, refused = 0;
  std::string last_error;
};

class mock_aws_sm {
 public:
  mock_aws_sm(const mock_ca_material& ca, int port);
  ~mock_aws_sm();
  std::string url() const;
  mock_aws_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_aws_state> state_;
  std::unique_ptr<cloud_server> server_;
  int port_;
};

struct mock_azure_state {
  std::mutex mutex;
  std::string tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  std::string client_id = "certctl-app";
  std::string client_secret = "azure-client-secret";
  std::map<std::string, std::string> certificates;  ///< name -> DER
  std::vector<std::string> tokens;                  ///< issued access tokens
  std::string next_link_base;  ///< "" = the vault's own URL; else nextLink points there
  int token_calls = 0, list_calls = 0, get_calls = 0, refused = 0;
  std::string last_error;
};

/// Serves both the token endpoint (/{tenant}/oauth2/v2.0/token) and the vault.
class mock_azure_kv {
 public:
  mock_azure_kv(const mock_ca_material& ca, int port);
  ~mock_azure_kv();
  std::string url() const;
  mock_azure_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_azure_state> state_;
  std::unique_ptr<cloud_server> server_;
  int port_;
};

struct mock_gcp_secret {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string data;  ///< the latest version's payload
};

struct mock_gcp_state {
  std::mutex mutex;
  std::string project = "certctl-test";
  std::string client_email = "discovery@certctl-test.iam.gserviceaccount.com";
  std::string private_key_id = "0123456789abcdef";
  std::string public_jwk;  ///< the service account's key; assertions must verify with it
  std::vector<mock_gcp_secret> secrets;
  std::vector<std::string> tokens;
  int token_calls = 0, list_calls = 0, access_calls = 0, refused = 0;
  std::string last_error;
};

/// Serves the token endpoint (/token) and the Secret Manager API (/v1/...).
class mock_gcp_sm {
 public:
  mock_gcp_sm(const mock_ca_material& ca, int port);
  ~mock_gcp_sm();
  std::string url() const;
  mock_gcp_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_gcp_state> state_;
  std::unique_ptr<cloud_server> server_;
  int port_;
};

}  // namespace certctl::testing
