#pragma once
/// JSON Web Signatures as ACME uses them (RFC 7515 flattened JSON serialisation, profiled by
/// RFC 8555 §6.2): parsing with size limits and strict JSON, the protected header rules (alg,
/// nonce, url, exactly one of jwk/kid), and verification with RS256, ES256, ES384 and EdDSA.
/// Nonce and URL checks need server state, so they are left to the caller; this layer only
/// extracts them. Each failure carries the ACME problem category it maps to.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "events/result.hpp"
#include "infra/crypto/jwk.hpp"

namespace certctl::crypto {

/// Which ACME problem (RFC 8555 §6.7) a JWS failure is.
enum class jws_errc {
  malformed,                ///< not a well-formed flattened JWS or protected header
  bad_signature_algorithm,  ///< alg not one we accept, or not matching the key
  bad_public_key,           ///< the jwk is not an acceptable key
  bad_signature,            ///< the signature does not verify (reported as malformed)
};
const char* to_string(jws_errc c);

struct jws_error {
  jws_errc code;
  std::string message;
};

template <class T>
using jws_result = certctl::result<T, jws_error>;

struct jws_limits {
  size_t max_body = 64 * 1024;        ///< the whole request body
  size_t max_protected = 8 * 1024;    ///< decoded protected header
  size_t max_signature_bytes = 1024;  ///< decoded signature (RSA 8192 = 1024 bytes)
};

struct jws_header {
  std::string alg;
  std::string nonce;
  std::string url;
  std::string kid;         ///< set when the key is referenced by account URL
  std::optional<jwk> key;  ///< set when the key is embedded ("jwk")
};

struct parsed_jws {
  jws_header header;
  std::string payload;  ///< decoded; empty for POST-as-GET
  /// True when the payload member was the empty string (POST-as-GET), as opposed to "{}".
  bool post_as_get = false;
  std::string signing_input;  ///< "<protected b64>.<payload b64>" as received
  bytes signature;
};

/// What a JWS is for: an ordinary request, or the inner JWS of key-change (RFC 8555 §7.3.5),
/// which must carry the new key as jwk and must not carry a nonce.
enum class jws_use { request, key_change_inner };

/// Parses a request body. Checks structure and the header rules of RFC 8555 §6.2; does not
/// verify the signature (the key may have to be looked up by kid first).
jws_result<parsed_jws> parse_jws(std::string_view body, const jws_limits& limits = {},
                                 jws_use use = jws_use::request);

/// Verifies the signature with `key`; the header's alg must suit the key type and size.
jws_result<done> verify_jws(const parsed_jws& jws, const jwk& key);

/// A public key loaded once for verifying many JWS: verify_jws(jws, jwk) decodes the key's SPKI
/// on every call (~85 µs with OpenSSL 3's decoder), which the ACME server would otherwise pay
/// per request for the same account key. Immutable once made; safe to share between threads
/// (OpenSSL allows concurrent read-only use of one key).
class jws_verifier {
 public:
  static jws_result<std::shared_ptr<const jws_verifier>> make(jwk key);
  const jwk& key() const { return key_; }
  /// The same checks and result as verify_jws(jws, key()).
  jws_result<done> verify(const parsed_jws& jws) const;

 private:
  jws_verifier(jwk key, std::shared_ptr<void> pkey)
      : key_(std::move(key)), pkey_(std::move(pkey)) {}
  jwk key_;
  std::shared_ptr<void> pkey_;  ///< EVP_PKEY
};

/// The algorithms verify_jws accepts, for error messages and the directory.
const char* supported_jws_algorithms();

/// Signs like an ACME client: builds the protected header {alg, nonce, url, jwk|kid} for
/// `private_key_pem` (alg chosen from the key: ES256/ES384/RS256/EdDSA) and returns the
/// flattened JWS JSON. `kid` empty embeds the public JWK; `nonce` empty omits the nonce (the
/// inner JWS of key-change). Used by tests and the benchmark's
/// client; `extra_header_json` (e.g. "\"crit\":[\"x\"]") lets negative tests add members.
crypto_result<std::string> sign_jws(std::string_view private_key_pem, std::string_view nonce,
                                    std::string_view url, std::string_view kid,
                                    std::string_view payload,
                                    std::string_view extra_header_json = {});

/// sign_jws with the private key parsed once (and its public JWK computed once): for clients
/// that sign many requests with one account key, like the benchmark, where parsing the PEM
/// twice per signature would cost more than the signature. Safe to share between threads.
class jws_signer {
 public:
  static crypto_result<std::shared_ptr<const jws_signer>> make(std::string_view private_key_pem);
  const jwk& public_key() const { return pub_; }
  /// The same output as sign_jws with this key.
  crypto_result<std::string> sign(std::string_view nonce, std::string_view url,
                                  std::string_view kid, std::string_view payload,
                                  std::string_view extra_header_json = {}) const;

 private:
  jws_signer(jwk pub, std::shared_ptr<void> pkey) : pub_(std::move(pub)), pkey_(std::move(pkey)) {}
  jwk pub_;
  std::shared_ptr<void> pkey_;  ///< EVP_PKEY
};

}  // namespace certctl::crypto
