#pragma once
/// A real `openssl ca` in a temporary directory, and the sign, revoke and CRL scripts an
/// operator would write for it (CSR on stdin -> certificate on stdout; revoke <SERIAL>
/// <reason>; CRL to stdout), for the OpenSSL / custom CA issuer's tests. Plus scripts that
/// misbehave: one that hangs, one that floods its output, one that signs the wrong key.

#include <string>

namespace certctl::testing {

struct openssl_ca_dir {
  std::string dir;                                    ///< the CA's directory (0700)
  std::string root_path;                              ///< its self-signed root, PEM
  std::string sign, revoke, crl, slow, flood, wrong;  ///< absolute script paths
  std::string index_path;                             ///< openssl ca's index.txt
};

/// Creates the CA (openssl req -x509, P-256) and the scripts under `dir` (which must exist).
/// Throws std::runtime_error when openssl is missing or fails.
openssl_ca_dir make_openssl_ca(const std::string& dir);

}  // namespace certctl::testing
