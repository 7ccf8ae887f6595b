#pragma once
/// CMS EnvelopedData (RFC 5652 §6): content encrypted with AES-256-CBC under a fresh key that
/// is wrapped for one recipient (RSA: key transport, PKCS#1 v1.5; EC: ephemeral-static ECDH
/// key agreement). EST server-side key generation returns the private key this way (RFC 7030
/// §4.4.2); SCEP replies are enveloped to the requester (RFC 8894 §3.3). Decryption is for
/// tests and SCEP requests: untrusted input, size-limited.

#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest EnvelopedData decrypted.
inline constexpr size_t max_cms_size = 256 * 1024;

/// DER of an EnvelopedData of `content` for the holder of `recipient_certificate_der`'s key,
/// the recipient named by the certificate's issuer and serial.
crypto_result<bytes> cms_envelope_for_certificate(std::string_view content,
                                                  const bytes& recipient_certificate_der);

/// The same for a bare public key (SubjectPublicKeyInfo DER, e.g. a CSR's key), the recipient
/// named by subjectKeyIdentifier = SHA-1 of the key's subjectPublicKey bits (RFC 5280
/// §4.2.1.2 method 1), so `openssl cms -decrypt -inkey key.pem` finds it without a certificate.
crypto_result<bytes> cms_envelope_for_public_key(std::string_view content, const bytes& spki_der);

/// The content of an EnvelopedData (DER) decrypted with `private_key_pem`.
crypto_result<std::string> cms_decrypt(const bytes& der, std::string_view private_key_pem);

}  // namespace certctl::crypto
