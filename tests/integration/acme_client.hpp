#pragma once
/// A minimal ACME client for the tests (ES256 by default): directory, nonces, JWS signing with
/// jwk or kid, POST and POST-as-GET. It deliberately exposes the raw pieces (nonce, signed
/// body, headers) so negative tests can break one thing at a time.

#include <rapidjson/document.h>

#include <memory>
#include <string>

#include "infra/crypto/keys.hpp"
#include "tests/integration/server_process.hpp"

namespace certctl::integration {

struct acme_response {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  std::string header(const std::string& name) const;
  rapidjson::Document json() const;
  /// The problem type without the URN prefix ("badNonce"), "" when not a problem.
  std::string problem_type() const;
  std::string describe() const;
};

class acme_client {
 public:
  explicit acme_client(const server_process& server,
                       crypto::key_type key = crypto::key_type::ecdsa_p256,
                       const std::string& directory_path = "/acme/directory");

  /// URLs from the directory ("newNonce", "newAccount", "newOrder", "revokeCert").
  std::string directory_url(const char* name) const;
  const std::string& base() const { return base_; }

  /// A fresh nonce from new-nonce (HEAD).
  std::string fresh_nonce();
  /// Signs `payload` for `url` with this client's key (kid once registered, else jwk).
  std::string sign(const std::string& url, const std::string& payload, bool use_jwk = false,
                   const std::string& nonce = {});
  /// Sends an already signed body.
  acme_response send(const std::string& url, const std::string& body,
                     const std::string& content_type = "application/jose+json");
  /// sign + send; remembers the Replay-Nonce of the answer for the next request.
  acme_response post(const std::string& url, const std::string& payload, bool use_jwk = false);
  acme_response get(const std::string& url);

  /// new-account (termsOfServiceAgreed); sets kid from Location.
  acme_response register_account();
  const std::string& kid() const { return kid_; }
  const std::string& key_pem() const { return key_pem_; }
  /// Signs with `pem` from now on (after a key-change); the kid stays.
  void set_key(std::string pem) { key_pem_ = std::move(pem); }

 private:
  std::string path_of(const std::string& url) const;

  std::unique_ptr<httplib::SSLClient> http_;
  std::string base_;
  std::string key_pem_;
  std::string kid_;
  std::string nonce_;
  rapidjson::Document directory_;
};

/// A fresh key and a DER CSR (base64url) for `names` (first is the CN unless `cn` is given).
struct acme_csr {
  std::string key_pem;
  std::string der_b64url;
};
acme_csr make_acme_csr(const std::vector<std::string>& names, const std::string& key_pem = {});

/// An externalAccountBinding for `c`'s key: HS256 under `hmac_key` (base64url), `kid`, `url`.
std::string eab_for(const acme_client& c, const std::string& kid, const std::string& hmac_key,
                    const std::string& url);

}  // namespace certctl::integration
