#include "tools/server/cluster_setup.hpp"

#include <unistd.h>

namespace certctl::server {

cluster::node_options cluster_options_from(const infra::server_config& cfg,
                                           const std::string& api_url) {
  cluster::node_options o;
  o.api_url = api_url;
  o.bus.bootstrap_servers = cfg.kafka_bootstrap_servers;
  for (const auto& [k, v] : cfg.kafka_properties) o.bus.properties.push_back({k, v});
  o.bus.commands_topic = cfg.cluster_commands_topic;
  o.bus.group_id = cfg.cluster_group_id;
  o.bus.session_timeout = std::chrono::milliseconds(cfg.cluster_session_timeout_ms);
  o.bus.request_timeout = std::chrono::milliseconds(cfg.cluster_request_timeout_ms);
  o.bus.node_id = cfg.cluster_node_id;
  if (o.bus.node_id.empty()) {
    // Host and port tell nodes on one machine apart and stay the same across restarts.
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    o.bus.node_id = std::string(*host ? host : "node") + "-" + std::to_string(cfg.port);
  }
  return o;
}

}  // namespace certctl::server
