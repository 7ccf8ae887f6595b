#include "connectors/targets/ssh/ssh_connector.hpp"

#include <memory>

#include "connectors/targets/ssh/ssh_config.hpp"
#include "connectors/targets/ssh/ssh_target.hpp"

namespace certctl::connectors {

certctl::result<done, std::string> register_ssh_target(connector_registry& registry,
                                                       const builtin_context& context) {
  target_registration r;
  r.type = "SSH";
  r.description =
      "agentless deployment over SSH/SFTP from a proxy agent: upload with backups, remote "
      "validate and reload, rollback";
  r.schema = ssh::ssh_target_schema();
  const net::outbound_guard guard =
      context.outbound != nullptr ? *context.outbound : net::outbound_guard();
  auto clock = std::make_shared<const infra::system_clock>();
  r.make = [guard, clock](const connector_settings& s)
      -> certctl::result<std::shared_ptr<target>, connector_error> {
    auto config = ssh::parse_ssh_config(s.config);
    if (!config)
      return connector_error{config.error().code, "target " + s.id + ": " + config.error().message};
    return std::shared_ptr<target>(
        std::make_shared<ssh::ssh_target>(s.id, std::move(*config), guard, clock));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
