#pragma once
/// tls-alpn-01 (RFC 8737): a TLS handshake with SNI = the identifier offering only the ALPN
/// protocol "acme-tls/1" must present a certificate whose subjectAltName is exactly one
/// dNSName, the identifier, and which carries the critical id-pe-acmeIdentifier extension
/// (1.3.6.1.5.5.7.1.31) holding the DER OCTET STRING of SHA-256(key authorization). The chain
/// is not validated: the certificate is self-signed by design (RFC 8737 §3).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "infra/net/outbound_guard.hpp"

namespace certctl::gateways::acme {

struct tls_alpn01_target {
  std::string host;  ///< where to connect (the identifier, or a test's loopback address)
  int port = 443;
};

/// Why `identifier` fails tls-alpn-01 at `target`, in words fit for the ACME client; nullopt
/// when it passes. The connection goes through `guard`. A refused address, a failed connect
/// and a failed handshake all answer one generic text, so the client learns nothing about
/// what listens where; the detail (address, port, cause) goes to `*log_detail` when given.
std::optional<std::string> check_tls_alpn01(const std::string& identifier,
                                            const std::string& key_authorization,
                                            const tls_alpn01_target& target,
                                            std::chrono::milliseconds timeout,
                                            const net::outbound_guard& guard,
                                            std::string* log_detail = nullptr);

/// The certificate checks of RFC 8737 §3 on a presented leaf given as DER (what
/// check_tls_alpn01 applies after the handshake; exposed for the fuzz target and tests: the
/// certificate comes from whoever answers on the identifier's address).
std::optional<std::string> check_tls_alpn01_certificate(std::string_view der,
                                                        const std::string& identifier,
                                                        const std::string& key_authorization);

}  // namespace certctl::gateways::acme
