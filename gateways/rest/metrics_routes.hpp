#pragma once
/// The metrics routes (DESIGN §12) and the glue that feeds infra::metrics from the store, the
/// router and the issuance service. infra/metrics knows none of these layers; this file does.
///
///   GET /api/v1/metrics             JSON MetricsResponse (gauges, counters, uptime)
///   GET /api/v1/metrics/prometheus  text exposition format, version 0.0.4
///   GET /metrics                    the same text, at the path scrapers expect by default
///
/// All three need role viewer, like every other read: metrics reveal inventory size and
/// traffic. Prometheus scrapes with a viewer API key as bearer token, e.g.
///
///   scrape_configs:
///     - job_name: certctl
///       scheme: https
///       tls_config: {ca_file: /etc/prometheus/certctl-ca-bundle.pem}
///       authorization: {type: Bearer, credentials_file: /etc/prometheus/certctl.key}
///       static_configs: [{targets: ["certctl.example:8443"]}]

#include "actors/cluster/cluster_node.hpp"
#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/metrics/metrics.hpp"
#include "infra/store/event_store.hpp"
#include "projections/projector.hpp"
#include "infra/sql/database.hpp"

namespace certctl::actors {
class issuance_service;
}

namespace certctl::gateways::rest {

struct metrics_context {
  infra::metrics& metrics;
  sql::database& db;
  projections::projector& projector;
  const infra::clock& clock;
  cluster::cluster_node* node = nullptr;  ///< cluster mode only
};

/// Points the registry's state gauges at the read models (entity stats, projection lag) and
/// registers the three routes above.
void add_metrics_routes(gateways::http::router& r, metrics_context& ctx);

/// Sets the store's observers; call before open_event_store(url, options).
void observe_event_store(store::store_options& options, infra::metrics& m);

/// Counts every answered request; keeps (and still calls) an on_request already set.
void observe_http_requests(gateways::http::router_options& options, infra::metrics& m);

/// Counts every refused request by reason (certctl_auth_failures_total); keeps (and still
/// calls) an on_auth_failure already set.
void observe_auth_failures(gateways::http::router_options& options, infra::metrics& m);

/// Counts issuance attempts by issuer type and outcome.
void observe_issuance(actors::issuance_service& service, infra::metrics& m);

/// The MetricsResponse body for `s` at `now` (exposed for tests).
std::string metrics_response_json(const infra::metrics_snapshot& s, events::timestamp_us started,
                                  events::timestamp_us now);

}  // namespace certctl::gateways::rest
