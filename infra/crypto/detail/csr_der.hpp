#pragma once
/// PRIVATE to infra/crypto: the two ways csr.cpp reads a DER CSR. OpenSSL 3.0's d2i_X509_REQ
/// decodes the public key through its generic decoder (~150 µs per CSR, most of it method
/// lookups under global locks); the direct path (csr_der.cpp) splits the DER itself and builds
/// an ECDSA key from its curve and point (~25 µs). Both end in fill_csr_names.

#include <openssl/x509.h>

#include <optional>

#include "infra/crypto/csr.hpp"

namespace certctl::crypto::detail {

/// Subject and subjectAltName fields of `info` from a CSR's subject and requested extensions
/// (`exts` may be null); refuses a duplicate or malformed subjectAltName extension.
crypto_result<done> fill_csr_names(csr_info& info, const X509_NAME* subject,
                                   const STACK_OF(X509_EXTENSION) * exts);

/// A DER CSR with an ECDSA key on P-256, P-384 or P-521 signed with ecdsa-with-SHA256/384/512,
/// parsed and its signature verified without OpenSSL's key decoder. nullopt: some other form
/// (another key or signature algorithm, an encoding this reader does not take apart, a
/// Microsoft extension request): the caller parses it the general way, which also words the
/// error for malformed input.
std::optional<crypto_result<csr_info>> parse_ec_csr_der(const std::uint8_t* der, size_t size);

}  // namespace certctl::crypto::detail
