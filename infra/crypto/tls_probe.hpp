#pragma once
/// Reads the certificate a TLS endpoint serves, through the outbound guard (infra/net): the
/// deployment targets prove that a reload took effect by comparing the served leaf's SHA-256
/// fingerprint with what they deployed. The chain is deliberately not verified: the question
/// is "which certificate does this endpoint present", and pinning the exact leaf answers it
/// more strictly than any chain check (a freshly deployed certificate may come from a private
/// CA the agent does not trust). OpenSSL stays inside infra/crypto.

#include <cstddef>
#include <string>
#include <vector>

#include "infra/net/outbound_guard.hpp"

namespace certctl::crypto {

/// Plain-text protocols that upgrade to TLS in-band (RFC 3207 SMTP, RFC 3501 IMAP).
enum class starttls_protocol { none, smtp, imap };

struct tls_probe_request {
  std::string host;  ///< a name or an IP literal, checked by the guard
  int port = 443;
  std::string server_name;  ///< SNI; "" = host when it is a name, none for an IP literal
  starttls_protocol starttls = starttls_protocol::none;
};

struct served_certificate {
  std::string fingerprint_sha256_hex;  ///< SHA-256 of the leaf's DER, lower-case hex
  std::string serial_hex;              ///< as certificate_info::serial_hex
  std::string pem;                     ///< the leaf
  /// The other certificates the peer sent after the leaf, in its order (PEM each); at most
  /// max_served_chain: a peer cannot make us keep more.
  std::vector<std::string> chain_pem;
  std::string tls_version;   ///< as OpenSSL names it, e.g. "TLSv1.3"
  std::string cipher_suite;  ///< e.g. "TLS_AES_256_GCM_SHA384"
};

/// The most chain certificates kept from one handshake.
inline constexpr std::size_t max_served_chain = 10;

/// Connects, handshakes (TLS 1.2+), returns the leaf the peer presented, the chain it sent
/// with it, and the negotiated version and cipher. Errors carry the
/// cause in their detail (for logs and the job's message; the endpoint is the operator's).
result<served_certificate, net::outbound_error> probe_tls_certificate(
    const net::outbound_guard& guard, const tls_probe_request& req,
    const net::outbound_limits& limits);

}  // namespace certctl::crypto
