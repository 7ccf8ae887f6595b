#pragma once
/// GET /api/v1/cluster (admin): the nodes of the cluster, the partitions each owns, their
/// command lag and where the singletons run (docs/cluster.md). On a single node it answers
/// {"mode":"single"} with this node owning everything.

#include <chrono>

#include "actors/cluster/cluster_node.hpp"
#include "gateways/http/router.hpp"
#include "infra/clock.hpp"

namespace certctl::gateways::rest {

struct cluster_context {
  cluster::cluster_node* node;  ///< null on a single node
  const infra::clock& clock;
  /// A node whose heartbeat is older than this is reported "down".
  std::chrono::milliseconds down_after{std::chrono::seconds(10)};
};

void add_cluster_routes(gateways::http::router& r, cluster_context& ctx);

}  // namespace certctl::gateways::rest
