#pragma once
/// Local HTTPS stand-ins for CAs that cannot be installed here (step-ca, HashiCorp Vault),
/// written from the vendors' API documentation: the same paths, request and response JSON and
/// error shapes, and the checks the real servers make on what we send (step-ca: the one-time
/// token's signature, kid, issuer, audience, subject, SANs, lifetime and single use; Vault:
/// X-Vault-Token, AppRole credentials, role constraints, the sealed state). They sign with an
/// in-test CA (infra/crypto) and record what they were asked, for the tests to check.
/// They listen on 127.0.0.1 only, on the port the test gives.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace certctl::testing {

/// A root CA made in the test, and a serving certificate for 127.0.0.1 under it.
struct mock_ca_material {
  std::string root_pem, root_key_pem;
  std::string serving_cert_path, serving_key_path, root_path;  ///< files in `dir`
  std::string root_fingerprint;                                ///< SHA-256, lower-case hex
};
mock_ca_material make_mock_ca(const std::string& dir, const std::string& name);

/// Signs `csr_pem` under `ca` (CN and SANs from the CSR unless given), valid `seconds`.
std::string mock_sign(const mock_ca_material& ca, const std::string& csr_pem, int64_t seconds,
                      const std::vector<std::string>& dns = {},
                      const std::vector<std::string>& ips = {}, const std::string& cn = {});

class mock_server;

struct mock_stepca_state {
  std::mutex mutex;
  std::string provisioner_name = "certctl";
  std::string provisioner_public_jwk;  ///< JSON; tokens must verify with it
  std::string kid;
  int sign_calls = 0;
  std::vector<std::string> revoked;  ///< decimal serials, in order
  std::vector<int> revoke_reason_codes;
  std::set<std::string> seen_jti;
  std::string last_error;              ///< why the last request was refused
  int fail_revokes = 0;                ///< answer this many revokes with 503 first
  std::chrono::milliseconds delay{0};  ///< /health and /1.0/sign wait this long first
};

/// step-ca: GET /health, GET /roots, POST /1.0/sign, POST /1.0/revoke.
class mock_stepca {
 public:
  mock_stepca(const mock_ca_material& ca, int port);
  ~mock_stepca();
  std::string url() const;
  mock_stepca_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_stepca_state> state_;
  std::unique_ptr<mock_server> server_;
  int port_;
};

struct mock_vault_state {
  std::mutex mutex;
  std::set<std::string> tokens;  ///< valid X-Vault-Token values
  std::string role = "web";
  std::string allowed_domain = "example.test";  ///< the role allows this and subdomains
  std::string role_id, secret_id;               ///< AppRole; login mints a token
  bool sealed = false;
  bool renewable = true;
  std::int64_t token_ttl = 3600;
  int renewals = 0;
  int logins = 0;
  int sign_calls = 0;
  std::vector<std::string> revoked;  ///< serial_number as received ("xx:xx:...")
  std::vector<std::string> seen_tokens;
  std::chrono::milliseconds delay{0};
};

/// Vault: GET /v1/sys/health, GET /v1/auth/token/lookup-self, POST /v1/auth/token/renew-self,
/// POST /v1/auth/approle/login, POST /v1/pki/sign/:role, POST /v1/pki/revoke,
/// GET /v1/pki/cert/ca.
class mock_vault {
 public:
  mock_vault(const mock_ca_material& ca, int port);
  ~mock_vault();
  std::string url() const;
  mock_vault_state& state() { return *state_; }

 private:
  std::shared_ptr<mock_vault_state> state_;
  std::unique_ptr<mock_server> server_;
  int port_;
};

}  // namespace certctl::testing
