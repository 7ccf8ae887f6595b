#pragma once
/// OCSP (RFC 6960) without OpenSSL types: parse a request from an untrusted client, and sign
/// responses with a delegated responder key (see revocation_signer::issue_ocsp_responder).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.hpp"
#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest OCSPRequest DER we parse. One CertID with a SHA-512 hash is about 180 bytes, and a
/// signed request carries a certificate or two; anything bigger is not a real client.
inline constexpr size_t max_ocsp_request_der = 16 * 1024;
/// Most CertIDs answered in one request (RFC 6960 sets no limit; each costs a response entry).
inline constexpr size_t max_ocsp_request_ids = 32;
/// Longest nonce extension value echoed: RFC 8954 allows 1..32 octets of nonce, plus the two
/// bytes of the OCTET STRING header most clients wrap it in.
inline constexpr size_t max_ocsp_nonce = 34;

/// The CertID hash algorithms we answer for. Others (MD5, SHA-224, SHA-3, ...) are refused
/// with malformedRequest.
enum class ocsp_hash { sha1, sha256, sha384, sha512 };
std::string_view to_string(ocsp_hash h);

/// RFC 6960 §4.1.1 CertID.
struct ocsp_cert_id {
  ocsp_hash hash = ocsp_hash::sha1;
  bytes issuer_name_hash;
  bytes issuer_key_hash;
  std::string serial_hex;  ///< certificate_info::serial_hex form (upper case, even length)
};

struct ocsp_request {
  std::vector<ocsp_cert_id> ids;  ///< at least one
  bytes nonce;  ///< the id-pkix-ocsp-nonce extension's value, byte for byte; empty when absent
};

/// OCSPResponseStatus (RFC 6960 §4.2.1); 4 is unused.
enum class ocsp_response_status {
  successful = 0,
  malformed_request = 1,
  internal_error = 2,
  try_later = 3,
  sig_required = 5,
  unauthorized = 6,
};

struct ocsp_request_error {
  ocsp_response_status status = ocsp_response_status::malformed_request;
  std::string message;  ///< for logs; the client only gets the status
};

/// Parses a DER OCSPRequest. Refuses (malformedRequest) anything over max_ocsp_request_der,
/// trailing bytes, no or too many CertIDs, hash algorithms outside ocsp_hash, hashes of the
/// wrong length, and nonces that are empty or over max_ocsp_nonce. A request signature, when
/// present, is ignored: we answer anyone (RFC 6960 §4.1.2 makes signing optional).
certctl::result<ocsp_request, ocsp_request_error> parse_ocsp_request(const std::uint8_t* der,
                                                                     size_t size);

/// An unsuccessful OCSPResponse (no responseBytes) with `status`, DER.
bytes ocsp_error_response(ocsp_response_status status);

enum class ocsp_cert_status { good, revoked, unknown };

/// One SingleResponse. Times are whole seconds since the Unix epoch, UTC.
struct ocsp_single_response {
  ocsp_hash hash = ocsp_hash::sha1;  ///< the CertID is rebuilt for this issuer with this hash
  std::string serial_hex;
  ocsp_cert_status status = ocsp_cert_status::good;
  std::int64_t revoked_at = 0;  ///< revoked only
  int reason_code = -1;         ///< revoked only; -1: no revocationReason
  std::int64_t this_update = 0;
  std::int64_t next_update = 0;  ///< 0: none (the client may not cache)
};

/// Signs responses for one issuing CA with its delegated responder key. Immutable after
/// create(): one instance signs from several threads at once.
class ocsp_signer {
 public:
  /// `issuer_cert_pem`: the CA whose certificates are answered for. `responder_cert_pem` and
  /// `responder_key_pem`: the delegated responder, which that CA must have issued (checked).
  static crypto_result<ocsp_signer> create(std::string_view issuer_cert_pem,
                                           std::string_view responder_cert_pem,
                                           std::string_view responder_key_pem);
  ocsp_signer(ocsp_signer&&) noexcept;
  ocsp_signer& operator=(ocsp_signer&&) noexcept;
  ~ocsp_signer();

  /// True when `id` names our issuer: its name and key hashes under id.hash match the CA's.
  bool issuer_matches(const ocsp_cert_id& id) const;

  /// The CertID a client would send for `serial_hex` of our issuer.
  ocsp_cert_id cert_id(ocsp_hash hash, std::string serial_hex) const;

  /// A successful OCSPResponse (BasicOCSPResponse signed by the responder, responderID by key
  /// hash, the responder certificate included), DER. `nonce` (a request's extension value)
  /// is echoed when not empty. producedAt is the system time: OpenSSL stamps it while signing.
  crypto_result<bytes> sign(const std::vector<ocsp_single_response>& singles,
                            const bytes& nonce = {}) const;

  std::int64_t responder_not_after() const;  ///< seconds since the Unix epoch
  const std::string& responder_certificate_pem() const;

 private:
  struct impl;
  explicit ocsp_signer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// What a response says, for tests and the benchmark's sanity checks.
struct ocsp_response_info {
  ocsp_response_status status = ocsp_response_status::internal_error;
  std::vector<ocsp_single_response> singles;  ///< hash, serial, status, times, reason
  bytes nonce;                                ///< echoed nonce extension value, empty if none
  std::int64_t produced_at = 0;
  bool signature_valid = false;  ///< verified with the embedded responder certificate's key
};

/// Parses a DER OCSPResponse (up to 1 MiB).
crypto_result<ocsp_response_info> parse_ocsp_response(const bytes& der);

/// Builds a DER OCSPRequest for `serial_hex` of a certificate issued by `issuer_cert_pem`
/// (tests and the benchmark), with a random 16-byte nonce when `nonce` is set.
crypto_result<bytes> build_ocsp_request(std::string_view issuer_cert_pem,
                                        const std::vector<std::string>& serial_hex,
                                        ocsp_hash hash = ocsp_hash::sha1, bool nonce = false);

}  // namespace certctl::crypto
