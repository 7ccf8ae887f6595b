#pragma once
/// Process metrics (DESIGN §12): one registry per server, fed by observer hooks and rendered
/// in the Prometheus text exposition format for /api/v1/metrics/prometheus and /metrics.
///
///   event store hooks ──┐
///   issuance observer ──┼─> counters / histograms (updated as things happen)
///   router on_request ──┤
///   router on_auth_failure ┘
///   read models ───────────> gauges (refreshed from a snapshot source at scrape time)
///                                 └─> render_prometheus() -> text/plain; version=0.0.4
///
/// prometheus-cpp stays behind the pimpl, so nothing outside this folder sees its headers.
/// Every member is thread-safe: observers run on store writer, issuance worker and request
/// threads while scrapes run concurrently.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "events/result.hpp"
#include "infra/clock.hpp"

namespace certctl::infra {

struct metrics_error {
  std::string message;
};

/// Counts over the read models at one instant; the source of every state gauge.
struct metrics_snapshot {
  std::int64_t certificate_total = 0;
  std::int64_t certificate_active = 0;
  std::int64_t certificate_expiring_soon = 0;
  std::int64_t certificate_expired = 0;
  std::int64_t certificate_revoked = 0;
  std::int64_t agent_total = 0;
  std::int64_t agent_online = 0;
  std::map<std::string, std::int64_t> jobs_by_status;
  /// Absent when the lag could not be measured; the gauge then keeps its last value.
  std::optional<std::int64_t> projection_lag_events;
  /// Notifications in the dead-letter state (docs/notifications.md); absent: gauge unchanged.
  std::optional<std::int64_t> notifications_dead;

  /// This node's part in a cluster (docs/cluster.md); absent on a single node, whose
  /// exposition then has no certctl_cluster_* series at all.
  struct cluster_state {
    bool joined = false;
    std::int64_t owned_partitions = 0;
    std::int64_t command_lag = 0;  ///< commands not yet consumed on the owned partitions
    std::uint64_t forwarded = 0;   ///< commands sent to their owner through Kafka
    std::uint64_t received = 0;    ///< commands executed here for a caller on any node
    std::uint64_t rejected = 0;    ///< malformed records on the commands topic
  };
  std::optional<cluster_state> cluster;
};

using metrics_snapshot_source = std::function<result<metrics_snapshot, metrics_error>()>;

class metrics {
 public:
  /// `clock` (which must outlive this object) stamps the start time and measures uptime;
  /// `version` is exported as certctl_build_info{version}.
  explicit metrics(const clock& clock, std::string version = "");
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Sets where the state gauges come from; replaceable at any time.
  void set_snapshot_source(metrics_snapshot_source source);

  /// One issuance attempt finished (issuance_service observer).
  void observe_issuance(const std::string& issuer_type, bool success, double seconds);
  /// One Vault token renewal ended with `result`: success, failure or not_renewable
  /// (connectors/issuers/vault, certctl_vault_token_renewals_total).
  void observe_vault_token_renewal(const std::string& result);
  /// One event-store transaction committed `batch_size` appends (store_options hook).
  void observe_store_batch(std::size_t batch_size, std::chrono::microseconds commit_duration);
  /// One append was answered, `latency` after it was queued (store_options hook).
  void observe_store_append(std::chrono::microseconds latency);
  /// One HTTP request was answered (router_options::on_request).
  void observe_http_request(const std::string& method, int status,
                            std::chrono::microseconds duration);
  /// One request was refused by authentication or authorisation (router_options::
  /// on_auth_failure); `reason` is one of the router's three auth_failure names.
  void observe_auth_failure(const std::string& reason);
  /// One delivery attempt of an expiry alert: certctl_expiry_alerts_total{channel, threshold,
  /// result} with result "success" or "failure".
  void observe_expiry_alert(const std::string& channel, const std::string& threshold, bool success);

  /// Runs the snapshot source and updates the state gauges; the source's error when it fails
  /// (the gauges then keep their previous values and certctl_stats_up drops to 0).
  result<metrics_snapshot, metrics_error> refresh();

  /// Refreshes the gauges and renders every series in the text exposition format. A failed
  /// refresh still renders (counters and histograms stay useful); certctl_stats_up says so.
  std::string render_prometheus();

  events::timestamp_us started_at() const;
  std::int64_t uptime_seconds() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The Content-Type of render_prometheus()'s output.
inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace certctl::infra
