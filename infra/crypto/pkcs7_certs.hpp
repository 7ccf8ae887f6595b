#pragma once
/// PKCS#7 / CMS "certs-only" messages (RFC 5652 §5, degenerate SignedData: no signers, no
/// content, only certificates). EST answers /cacerts, /simpleenroll and /simplereenroll with
/// one (RFC 7030 §4.1.3, §4.2.3), and SCEP's GetCACert and CertRep carry one (RFC 8894).
/// Parsing is for untrusted input: size-limited, every failure a crypto_error.

#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest PKCS#7 message parsed. A chain of a few certificates is 2-10 KiB.
inline constexpr size_t max_pkcs7_size = 256 * 1024;

/// DER of a certs-only SignedData holding `certificates` (each DER) in the given order.
crypto_result<bytes> pkcs7_certs_only(const std::vector<bytes>& certificates);

/// The same from a PEM text with one or more certificates (a chain, leaf first).
crypto_result<bytes> pkcs7_certs_only_pem(std::string_view pem);

/// The certificates (DER) a PKCS#7 SignedData carries, in the order they are encoded.
/// Refuses other content types and inputs over max_pkcs7_size.
crypto_result<std::vector<bytes>> pkcs7_certificates(const bytes& der);

}  // namespace certctl::crypto
