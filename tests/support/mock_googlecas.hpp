#pragma once
/// A local HTTPS stand-in for Google Cloud Certificate Authority Service (REST API v1) and
/// Google's OAuth2 token endpoint, written from the published API reference: POST /token
/// (JWT-bearer grant, RFC 7523: the assertion's RS256 signature checked against the service
/// account's public key, iss, aud = this token URL, scope, iat/exp), and under /v1 the CA pool's
/// certificates.create (pemCsr, lifetime, certificateId, requestId idempotency),
/// certificates.list with the hex_serial_number filter, certificates.revoke and
/// caPools.fetchCaCerts, every call checked for a bearer token the mock minted and that has not
/// expired. Errors are google.rpc.Status bodies {"error": {code, message, status}}.
/// Listens on 127.0.0.1 only.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/mock_issuers.hpp"

namespace certctl::testing {

struct mock_cas_certificate {
  std::string name;  ///< projects/.../caPools/{pool}/certificates/{id}
  std::string pem;
  std::string serial_hex_lower;
  std::string revocation_reason;  ///< "" while not revoked
  std::string lifetime;           ///< as requested
};

struct mock_googlecas_state {
  std::mutex mutex;
  std::string project = "proj-1", location = "us-central1", pool = "pool-1";
  std::string client_email = "certctl@proj-1.iam.gserviceaccount.com";
  std::string private_key_id = "k1";
  std::string public_jwk;  ///< the service account's public key; assertions must verify
  std::int64_t token_lifetime = 3600;
  std::map<std::string, std::int64_t> tokens;  ///< minted token -> expiry (Unix s)
  int token_exchanges = 0;
  std::vector<mock_cas_certificate> certificates;
  std::map<std::string, std::string> request_ids;  ///< requestId -> certificate name
  int create_calls = 0;
  // Failure injection, consumed in order.
  int throttle_next = 0;           ///< answer this many calls 429 RESOURCE_EXHAUSTED
  std::string retry_after = "1";   ///< their Retry-After
  bool deny_permission = false;    ///< 403 PERMISSION_DENIED on every API call
  bool no_enabled_ca = false;      ///< 400 FAILED_PRECONDITION on create
  bool reject_csr = false;         ///< 400 INVALID_ARGUMENT on create (the pool's issuance policy)
  bool revoke_all_tokens = false;  ///< the next API call finds its token revoked (401)
  std::chrono::milliseconds delay{0};  ///< API calls wait this long first
  std::string last_error;
};

class mock_googlecas {
 public:
  mock_googlecas(const mock_ca_material& ca, int port);
  ~mock_googlecas();
  std::string url() const;
  std::string token_url() const { return url() + "/token"; }
  mock_googlecas_state& state() { return *state_; }
  /// A service-account JSON key file for `key_pem` (RSA) as Google writes it, with this mock's
  /// token URL; also registers the public key with the mock.
  std::string service_account_json(const std::string& key_pem);

 private:
  struct server;
  std::shared_ptr<mock_googlecas_state> state_;
  std::unique_ptr<server> server_;
  int port_;
};

}  // namespace certctl::testing
