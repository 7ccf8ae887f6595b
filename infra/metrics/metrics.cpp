#include "infra/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>

namespace certctl::infra {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Buckets follow what each value looks like in practice: appends and commits take from tens
// of microseconds (memory, SQLite WAL) to tens of milliseconds (a remote PostgreSQL fsync);
// issuance is dominated by key generation and network CAs.
const Histogram::BucketBoundaries store_seconds_buckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
const Histogram::BucketBoundaries batch_size_buckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
const Histogram::BucketBoundaries issuance_seconds_buckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                              2.5,  5,    10,  30,   60};
const Histogram::BucketBoundaries http_seconds_buckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                          0.25,  0.5,   1,    2.5,   5,    10};

// Exported even at zero, so every series exists from the first scrape and rate()/absent()
// queries do not have to special-case a status that has not happened yet.
const char* const known_job_statuses[] = {"Pending",   "AwaitingCSR", "AwaitingApproval", "Running",
                                          "Completed", "Failed",      "Cancelled"};

double to_seconds(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1e6;
}

}  // namespace

struct metrics::impl {
  const clock& clk;
  events::timestamp_us started;
  prometheus::Registry registry;

  Gauge* certificate_total = nullptr;
  Gauge* certificate_active = nullptr;
  Gauge* certificate_expiring_soon = nullptr;
  Gauge* certificate_expired = nullptr;
  Gauge* certificate_revoked = nullptr;
  Gauge* agent_total = nullptr;
  Gauge* agent_online = nullptr;
  Gauge* projection_lag = nullptr;
  // Cluster series, registered with the first snapshot that has a cluster part.
  Gauge* cluster_joined = nullptr;
  Gauge* cluster_owned = nullptr;
  Gauge* cluster_lag = nullptr;
  Gauge* cluster_forwarded = nullptr;
  Gauge* cluster_received = nullptr;
  Gauge* cluster_rejected = nullptr;
  Gauge* uptime = nullptr;
  Gauge* stats_up = nullptr;
  Family<Gauge>* jobs = nullptr;
  Family<Counter>* issuance_total = nullptr;
  Family<Counter>* vault_token_renewals = nullptr;
  Histogram* issuance_seconds = nullptr;
  Histogram* append_seconds = nullptr;
  Histogram* batch_size = nullptr;
  Histogram* commit_seconds = nullptr;
  Family<Counter>* http_requests = nullptr;
  Family<Histogram>* http_seconds = nullptr;
  Family<Counter>* auth_failures = nullptr;
  Family<Counter>* expiry_alerts = nullptr;
  Gauge* notifications_dead = nullptr;

  // Serialises refreshes, so that two concurrent scrapes cannot interleave their gauge sets,
  // and guards the source and the job gauges.
  std::mutex refresh_mu;
  metrics_snapshot_source source;
  std::map<std::string, Gauge*> job_gauges;

  impl(const clock& c, const std::string& version) : clk(c), started(c.now()) {
    certificate_total = &gauge("certctl_certificate_total", "Certificates in the inventory.");
    certificate_active = &gauge("certctl_certificate_active", "Certificates in status Active.");
    certificate_expiring_soon =
        &gauge("certctl_certificate_expiring_soon",
               "Active or Expiring certificates that expire within 30 days.");
    certificate_expired = &gauge("certctl_certificate_expired", "Certificates in status Expired.");
    certificate_revoked = &gauge("certctl_certificate_revoked", "Certificates in status Revoked.");
    agent_total = &gauge("certctl_agent_total", "Registered agents that are not retired.");
    agent_online = &gauge("certctl_agent_online", "Agents in status Online.");
    projection_lag = &gauge("certctl_projection_lag_events",
                            "Events in the log not yet applied to every read model.");
    uptime = &gauge("certctl_uptime_seconds", "Seconds since the server started.");
    notifications_dead = &gauge("certctl_notifications_dead",
                                "Notifications that exhausted their retries (dead letter).");
    expiry_alerts = &prometheus::BuildCounter()
                         .Name("certctl_expiry_alerts_total")
                         .Help(
                             "Expiry alert delivery attempts by channel, threshold (days) and "
                             "result (success, failure).")
                         .Register(registry);
    stats_up = &gauge("certctl_stats_up",
                      "1 when the last scrape could read the read models, else 0 (state gauges "
                      "then hold their previous values).");
    prometheus::BuildGauge()
        .Name("certctl_build_info")
        .Help("Always 1; the version label names the running build.")
        .Register(registry)
        .Add({{"version", version}})
        .Set(1);

    jobs =
        &prometheus::BuildGauge().Name("certctl_jobs").Help("Jobs by status.").Register(registry);
    for (const char* s : known_job_statuses) job_gauges[s] = &jobs->Add({{"status", s}});

    issuance_total = &prometheus::BuildCounter()
                          .Name("certctl_issuance_total")
                          .Help("Issuance attempts by issuer type and outcome (success, failure).")
                          .Register(registry);
    vault_token_renewals =
        &prometheus::BuildCounter()
             .Name("certctl_vault_token_renewals_total")
             .Help("Vault token renew-self outcomes (success, failure, not_renewable).")
             .Register(registry);
    issuance_seconds = &histogram("certctl_issuance_duration_seconds",
                                  "Time from the start of an issuance attempt to its outcome.",
                                  issuance_seconds_buckets);
    append_seconds = &histogram("certctl_event_store_append_seconds",
                                "Time from queuing an append to its answer (queue + commit).",
                                store_seconds_buckets);
    batch_size = &histogram("certctl_event_store_batch_size",
                            "Appends committed per event-store transaction (group commit).",
                            batch_size_buckets);
    commit_seconds =
        &histogram("certctl_event_store_commit_seconds",
                   "Duration of one event-store write transaction.", store_seconds_buckets);

    http_requests = &prometheus::BuildCounter()
                         .Name("certctl_http_requests_total")
                         .Help("HTTP requests answered, by method and status code.")
                         .Register(registry);
    http_seconds = &prometheus::BuildHistogram()
                        .Name("certctl_http_request_duration_seconds")
                        .Help("Time to answer an HTTP request, by method.")
                        .Register(registry);
    auth_failures = &prometheus::BuildCounter()
                         .Name("certctl_auth_failures_total")
                         .Help(
                             "Requests refused by authentication (401) or authorisation (403), "
                             "by reason (missing_credentials, invalid_credentials, "
                             "insufficient_role, outside_binding).")
                         .Register(registry);
  }

  Gauge& gauge(const char* name, const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  }

  Histogram& histogram(const char* name, const char* help,
                       const Histogram::BucketBoundaries& buckets) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry).Add({}, buckets);
  }

  /// Caller holds refresh_mu. The command counts are cumulative values read from the node, so
  /// they are exported as gauges (a counter cannot be set).
  void apply_cluster(const metrics_snapshot::cluster_state& c) {
    if (cluster_joined == nullptr) {
      cluster_joined = &gauge("certctl_cluster_joined", "1 when this node is in the cluster.");
      cluster_owned = &gauge("certctl_cluster_owned_partitions",
                             "Partitions of the commands topic this node owns.");
      cluster_lag = &gauge("certctl_cluster_command_lag",
                           "Commands not yet consumed on the owned partitions.");
      cluster_forwarded = &gauge("certctl_cluster_forwarded_commands",
                                 "Commands sent to their owner through Kafka since start.");
      cluster_received = &gauge("certctl_cluster_received_commands",
                                "Commands executed here for a caller since start.");
      cluster_rejected = &gauge("certctl_cluster_rejected_commands",
                                "Malformed records on the commands topic since start.");
    }
    cluster_joined->Set(c.joined ? 1.0 : 0.0);
    cluster_owned->Set(static_cast<double>(c.owned_partitions));
    cluster_lag->Set(static_cast<double>(c.command_lag));
    cluster_forwarded->Set(static_cast<double>(c.forwarded));
    cluster_received->Set(static_cast<double>(c.received));
    cluster_rejected->Set(static_cast<double>(c.rejected));
  }

  /// Caller holds refresh_mu.
  void apply(const metrics_snapshot& s) {
    certificate_total->Set(static_cast<double>(s.certificate_total));
    certificate_active->Set(static_cast<double>(s.certificate_active));
    certificate_expiring_soon->Set(static_cast<double>(s.certificate_expiring_soon));
    certificate_expired->Set(static_cast<double>(s.certificate_expired));
    certificate_revoked->Set(static_cast<double>(s.certificate_revoked));
    agent_total->Set(static_cast<double>(s.agent_total));
    agent_online->Set(static_cast<double>(s.agent_online));
    if (s.projection_lag_events) projection_lag->Set(static_cast<double>(*s.projection_lag_events));
    if (s.notifications_dead) notifications_dead->Set(static_cast<double>(*s.notifications_dead));
    if (s.cluster) apply_cluster(*s.cluster);
    // A status that no job has any more reads 0, not its last count.
    for (auto& [status, g] : job_gauges) {
      auto it = s.jobs_by_status.find(status);
      g->Set(it == s.jobs_by_status.end() ? 0.0 : static_cast<double>(it->second));
    }
    for (const auto& [status, n] : s.jobs_by_status) {
      if (job_gauges.count(status)) continue;
      auto& g = jobs->Add({{"status", status}});
      g.Set(static_cast<double>(n));
      job_gauges[status] = &g;
    }
  }
};

metrics::metrics(const clock& clock, std::string version)
    : impl_(std::make_unique<impl>(clock, version)) {}

metrics::~metrics() = default;

void metrics::set_snapshot_source(metrics_snapshot_source source) {
  std::lock_guard<std::mutex> lock(impl_->refresh_mu);
  impl_->source = std::move(source);
}

void metrics::observe_issuance(const std::string& issuer_type, bool success, double seconds) {
  impl_->issuance_total
      ->Add({{"issuer_type", issuer_type}, {"outcome", success ? "success" : "failure"}})
      .Increment();
  impl_->issuance_seconds->Observe(seconds);
}

void metrics::observe_vault_token_renewal(const std::string& result) {
  impl_->vault_token_renewals->Add({{"result", result}}).Increment();
}

void metrics::observe_store_batch(std::size_t batch_size,
                                  std::chrono::microseconds commit_duration) {
  impl_->batch_size->Observe(static_cast<double>(batch_size));
  impl_->commit_seconds->Observe(to_seconds(commit_duration));
}

void metrics::observe_store_append(std::chrono::microseconds latency) {
  impl_->append_seconds->Observe(to_seconds(latency));
}

void metrics::observe_http_request(const std::string& method, int status,
                                   std::chrono::microseconds duration) {
  // Labels are method and status only: a path label would make one series per certificate id.
  impl_->http_requests->Add({{"method", method}, {"status", std::to_string(status)}}).Increment();
  impl_->http_seconds->Add({{"method", method}}, http_seconds_buckets)
      .Observe(to_seconds(duration));
}

void metrics::observe_auth_failure(const std::string& reason) {
  // Reason only: a principal or address label would let an attacker mint series at will.
  impl_->auth_failures->Add({{"reason", reason}}).Increment();
}

void metrics::observe_expiry_alert(const std::string& channel, const std::string& threshold,
                                   bool success) {
  // Bounded labels: six channels, the policies' thresholds (0-365), two results.
  impl_->expiry_alerts
      ->Add({{"channel", channel},
             {"threshold", threshold},
             {"result", success ? "success" : "failure"}})
      .Increment();
}

result<metrics_snapshot, metrics_error> metrics::refresh() {
  std::lock_guard<std::mutex> lock(impl_->refresh_mu);
  impl_->uptime->Set(static_cast<double>(uptime_seconds()));
  if (!impl_->source) {
    impl_->stats_up->Set(0);
    return metrics_error{"no metrics snapshot source is configured"};
  }
  auto snap = impl_->source();
  if (!snap) {
    impl_->stats_up->Set(0);
    return snap;
  }
  impl_->apply(*snap);
  impl_->stats_up->Set(1);
  return snap;
}

std::string metrics::render_prometheus() {
  refresh();  // a failure is reported through certctl_stats_up, not by failing the scrape
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

events::timestamp_us metrics::started_at() const {
  return impl_->started;
}

std::int64_t metrics::uptime_seconds() const {
  const auto elapsed = impl_->clk.now() - impl_->started;
  return elapsed > 0 ? elapsed / 1000000 : 0;
}

}  // namespace certctl::infra
