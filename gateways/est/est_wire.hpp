#pragma once
/// EST's wire format (RFC 7030 §4), without the actor layer so the fuzz target and unit tests
/// link it alone: request bodies as devices send them, base64 response bodies, the
/// multipart/mixed serverkeygen answer, HTTP Basic credentials, and the CsrAttrs encoding.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "infra/crypto/x509_types.hpp"

namespace certctl::gateways::est {

/// A decoded request body, or why it could not be decoded.
struct body_result {
  crypto::bytes der;
  std::string error;  ///< non-empty on failure
};

/// The DER a CSR body carries. Accepted, because real devices send all of them: base64 of
/// DER (RFC 7030 §4.2.1) with or without line breaks (LF or CRLF) and other white space, a PEM
/// CSR ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"), and raw DER. Anything over
/// `max_bytes`, empty, or malformed is refused with a reason.
body_result decode_csr_body(std::string_view body, std::size_t max_bytes);

/// The DER inside the first PEM block labelled `label` ("PRIVATE KEY", ...); nullopt when
/// there is none or it is not base64.
std::optional<crypto::bytes> pem_block_der(std::string_view pem, std::string_view label);

/// Base64 of `der` in 64-character lines ending in CRLF, the MIME body EST clients expect
/// (`Content-Transfer-Encoding: base64`).
std::string base64_body(const crypto::bytes& der);

/// One part of a multipart/mixed body.
struct mime_part {
  std::string content_type;  ///< e.g. "application/pkcs7-mime; smime-type=certs-only"
  std::string body;          ///< already base64 (Content-Transfer-Encoding: base64)
};

/// A multipart/mixed body (RFC 2046 §5.1) with `boundary`; parts carry
/// Content-Transfer-Encoding: base64.
std::string multipart_mixed(const std::string& boundary, const std::vector<mime_part>& parts);

/// The (user, password) of an `Authorization: Basic ...` header; nullopt when it is absent,
/// not Basic, not base64 or has no ':'.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header);

/// What csrattrs advertises (RFC 7030 §4.5.2), from a certificate profile.
struct csr_attrs_request {
  /// One entry per allowed key algorithm: ("ECDSA", 256|384|521), ("RSA", min bits),
  /// ("Ed25519", 0).
  std::vector<std::pair<std::string, int>> key_algorithms;
  bool challenge_password = false;  ///< ask for a challengePassword (channel binding)
};

/// DER CsrAttrs ::= SEQUENCE OF AttrOrOID: per ECDSA key an id-ecPublicKey attribute naming
/// the curve, per RSA key an rsaEncryption attribute with the minimum modulus size, Ed25519
/// as a bare OID, and the challengePassword OID when asked. Empty when nothing is asked.
crypto::bytes encode_csr_attrs(const csr_attrs_request& request);

}  // namespace certctl::gateways::est
