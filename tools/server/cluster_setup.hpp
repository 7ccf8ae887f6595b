#pragma once
/// Cluster mode wiring for certctl-server (DESIGN §9): this node's membership, built from the
/// configuration, with the singletons that must run on exactly one node.

#include <memory>
#include <string>

#include "actors/cluster/cluster_node.hpp"
#include "infra/config.hpp"

namespace certctl::server {

/// CERTCTL_CLUSTER_* and the Kafka settings as node options; `api_url` is this node's REST
/// address as other nodes and operators reach it.
cluster::node_options cluster_options_from(const infra::server_config& cfg,
                                           const std::string& api_url);

}  // namespace certctl::server
