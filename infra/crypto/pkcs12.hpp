#pragma once
/// PKCS#12 (.p12/.pfx) export for targets that want one file (Windows, Java keystores, F5).

#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

struct pkcs12_input {
  std::string private_key_pem;  ///< any format parse_private_key accepts (unencrypted)
  std::string certificate_pem;  ///< the leaf; must match the key
  std::string chain_pem;        ///< issuer chain, may be empty
  std::string password;         ///< must not be empty: an unprotected PKCS#12 defeats its purpose
  std::string friendly_name;    ///< alias shown by keytool/Windows; may be empty
};

/// DER bytes of a PKCS#12 with OpenSSL 3's defaults: key and certificates encrypted with
/// AES-256-CBC under PBKDF2-HMAC-SHA256 (2048 iterations), MAC with HMAC-SHA256. Old clients
/// that only read RC2/3DES PKCS#12 (Windows before Server 2019, Java < 8u301) cannot open it.
crypto_result<bytes> export_pkcs12(const pkcs12_input& input);

}  // namespace certctl::crypto
