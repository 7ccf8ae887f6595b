#pragma once
/// Local stand-ins for AWS Certificate Manager Private CA and the EC2 instance metadata
/// service, written from AWS's published API references.
///
/// mock_awsacmpca (HTTPS): the ACM PCA JSON 1.1 protocol, POST / with X-Amz-Target
/// ACMPrivateCA.{IssueCertificate, GetCertificate, RevokeCertificate,
/// GetCertificateAuthorityCertificate}. Every request's SigV4 signature is recomputed with the
/// secret of the access key it names (service acm-pca, the mock's region) and refused as
/// AWS does (UnrecognizedClientException for an unknown key, InvalidSignatureException for a
/// wrong signature, a missing session token). GetCertificate answers RequestInProgressException
/// `pending_polls` times per certificate first. Errors are {"__type", "message"} with status
/// 400 (403 for AccessDenied / signatures). Failure injection: throttling, access denied,
/// malformed CSR, failed requests.
///
/// mock_imds (plain HTTP): IMDSv2, PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds)
/// then GET /latest/meta-data/iam/security-credentials/[<role>] with X-aws-ec2-metadata-token;
/// a GET without a valid token is 401.
/// Both listen on 127.0.0.1 only.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/mock_issuers.hpp"

namespace certctl::testing {

struct mock_pca_certificate {
  std::string arn;
  std::string pem;
  std::string serial_hex_lower;  ///< no colons
  std::string signing_algorithm;
  std::string validity_json;
  std::string template_arn;
  int polls_left = 0;  ///< RequestInProgressException answers before the certificate
  std::string revocation_reason;
};

struct mock_awsacmpca_state {
  std::mutex mutex;
  std::string region = "us-east-1";
  std::string ca_arn =
      "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
      "11111111-2222-3333-4444-555555555555";
  /// access key id -> {secret, required session token ("" = none)}
  std::map<std::string, std::pair<std::string, std::string>> keys;
  std::vector<mock_pca_certificate> certificates;
  std::set<std::string> idempotency_tokens;
  int pending_polls = 0;  ///< new certificates answer RequestInProgressException this often
  int throttle_next = 0;  ///< answer this many calls ThrottlingException
  bool deny_access = false;
  bool fail_requests = false;  ///< issued requests end as RequestFailedException
  bool malformed_csr = false;  ///< IssueCertificate answers MalformedCSRException
  int issue_calls = 0, get_calls = 0, throttled = 0;
  std::vector<std::string> access_keys_seen;
  std::string last_error;
};

class mock_awsacmpca {
 public:
  mock_awsacmpca(const mock_ca_material& ca, int port);
  ~mock_awsacmpca();
  std::string url() const;
  mock_awsacmpca_state& state() { return *state_; }

 private:
  struct server;
  std::shared_ptr<mock_awsacmpca_state> state_;
  std::unique_ptr<server> server_;
  int port_;
};

struct mock_imds_state {
  std::mutex mutex;
  std::string role = "certctl-role";
  std::string access_key_id = "ASIAIMDSEXAMPLE", secret = "imds-secret", token = "imds-session";
  std::int64_t expires_in = 3600;  ///< the Expiration the mock announces, from now
  std::set<std::string> session_tokens;
  int token_puts = 0, credential_gets = 0, refused = 0;
};

class mock_imds {
 public:
  explicit mock_imds(int port);
  ~mock_imds();
  std::string url() const;
  mock_imds_state& state() { return *state_; }

 private:
  struct server;
  std::shared_ptr<mock_imds_state> state_;
  std::unique_ptr<server> server_;
  int port_;
};

}  // namespace certctl::testing
