#pragma once
/// A set of CA certificates that client certificates are checked against (EST's mTLS route).
/// Immutable once loaded, so a reload builds a new bundle and swaps a shared_ptr: requests in
/// flight keep the one they started with, and a bad file never replaces a good bundle.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest bundle file read.
inline constexpr size_t max_trust_bundle_size = 4 * 1024 * 1024;

class trust_bundle {
 public:
  /// Parses every certificate of a PEM text. Refuses a text without certificates and one
  /// whose certificates have all expired at `now_epoch` (a bundle that can never admit anyone
  /// is a configuration mistake, not a policy).
  static crypto_result<std::shared_ptr<const trust_bundle>> from_pem(std::string_view pem,
                                                                     std::int64_t now_epoch);
  /// The same from a file.
  static crypto_result<std::shared_ptr<const trust_bundle>> from_file(const std::string& path,
                                                                      std::int64_t now_epoch);
  ~trust_bundle();
  trust_bundle(const trust_bundle&) = delete;
  trust_bundle& operator=(const trust_bundle&) = delete;

  /// Checks a client's chain (DER, leaf first, as the TLS peer sent it) up to one of the
  /// bundle's certificates at `now_epoch`, for TLS client authentication.
  crypto_result<done> verify_client(const std::vector<bytes>& chain, std::int64_t now_epoch) const;

  std::size_t size() const;
  /// Subjects of the certificates (RFC 2253), in file order.
  const std::vector<std::string>& subjects() const;
  /// The earliest notAfter among the certificates (epoch seconds).
  std::int64_t earliest_not_after() const;

 private:
  trust_bundle();
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::crypto
