#pragma once
/// The discovery source interface (DESIGN §11): lists the certificates found in one place
/// (a network range, a directory, a cloud account, a CT log) so that unmanaged ones can be
/// claimed. Implementations are registered by type name (registry.hpp).
///
/// list() reads only; it never changes the source. It is synchronous and may block.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_error.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

struct discovered_certificate {
  std::string fingerprint_sha256_hex;  ///< identity: the same certificate seen twice is one
  std::string location;                ///< where it was found: "10.0.0.5:443", a file path, ...
  std::string common_name;
  std::vector<std::string> sans;
  std::string issuer_dn;
  std::string serial_hex;
  std::int64_t not_before_us = 0;
  std::int64_t not_after_us = 0;
  std::string cert_pem;  ///< "" when the source only reports metadata
};

struct discovery_page {
  std::vector<discovered_certificate> certificates;
  /// Errors on part of the source (one host unreachable) that did not stop the listing.
  std::vector<std::string> warnings;
};

class discovery_source {
 public:
  virtual ~discovery_source() = default;

  virtual std::string_view type() const = 0;
  virtual const std::string& id() const = 0;

  /// Everything the source holds now.
  virtual certctl::result<discovery_page, connector_error> list() = 0;
};

}  // namespace certctl::connectors
