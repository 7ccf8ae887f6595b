#pragma once
/// The cloud discovery scheduler of certctl-server (docs/discovery.md, "Cloud sources"): the
/// sources CERTCTL_CLOUD_DISCOVERY_* enables, built through the connector registry, listed on
/// a thread of their own (a slow cloud API must not hold up the renewal loops) at start and
/// then every CERTCTL_CLOUD_DISCOVERY_INTERVAL. In a cluster, one node runs it (a singleton).

#include <memory>
#include <string>

#include "events/result.hpp"

namespace certctl::actors {
class entity_runtime;
}
namespace certctl::connectors {
class connector_registry;
}
namespace certctl::infra {
struct server_config;
class clock;
}  // namespace certctl::infra

namespace certctl::server {

class cloud_discovery_service {
 public:
  /// nullptr when cloud discovery is off (or no source is enabled); an error names the source
  /// whose settings are unusable.
  static result<std::unique_ptr<cloud_discovery_service>, std::string> make(
      const infra::server_config& cfg, const connectors::connector_registry& registry,
      const infra::clock& clock, actors::entity_runtime& runtime);
  ~cloud_discovery_service();

  void start();  ///< idempotent
  void stop();   ///< waits for a listing in progress; idempotent
  std::string source_list() const;

  struct impl;
  explicit cloud_discovery_service(std::unique_ptr<impl> p);

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::server
