#pragma once
/// PKCS#10 attributes EST reads beyond what csr.hpp reports: the challengePassword, which
/// carries the TLS channel binding (RFC 7030 §3.5, with RFC 9266's tls-exporter for TLS 1.3).

#include <optional>
#include <string>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// The CSR's challengePassword attribute (PKCS#9) as text; nullopt when it has none. The CSR
/// is parsed only (callers verify its signature through parse_csr_der first).
crypto_result<std::optional<std::string>> csr_challenge_password(const bytes& csr_der);

}  // namespace certctl::crypto
