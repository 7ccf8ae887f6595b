#include "actors/schedulers/health_probe.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/workflows/discovery.hpp"
#include "domain/health_check.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/tls_probe.hpp"

namespace certctl::schedulers {

endpoint_prober tls_endpoint_prober(const net::outbound_guard& guard) {
  return [&guard](const health_probe_target& t) {
    probe_outcome out;
    crypto::tls_probe_request req;
    if (!domain::split_endpoint(t.endpoint, req.host, req.port)) {
      out.failure_reason = "invalid endpoint " + t.endpoint;
      return out;
    }
    net::outbound_limits limits;
    limits.connect_timeout = std::chrono::milliseconds(t.timeout_ms);
    limits.io_timeout = std::chrono::milliseconds(t.timeout_ms);
    const auto started = std::chrono::steady_clock::now();
    auto served = crypto::probe_tls_certificate(guard, req, limits);
    out.response_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - started)
                               .count();
    if (!served) {
      // The endpoint is the operator's own: the cause helps them and reveals nothing new.
      out.failure_reason = served.error().log_line();
      return out;
    }
    out.ok = true;
    out.fingerprint_sha256_hex = served->fingerprint_sha256_hex;
    out.serial_hex = served->serial_hex;
    out.tls_version = served->tls_version;
    out.cipher_suite = served->cipher_suite;
    out.pem = served->pem;
    out.chain = served->chain_pem;
    if (auto info = crypto::parse_certificate(served->pem)) {
      out.subject_dn = info->subject_dn;
      out.issuer_dn = info->issuer_dn;
      out.not_before = info->not_before;
      out.not_after = info->not_after;
    }
    return out;
  };
}

namespace {

events::json_object probe_body(const probe_outcome& o, events::timestamp_us checked_at) {
  events::json_object b;
  b.set("ok", o.ok).set("checked_at", events::format_rfc3339(checked_at));
  if (o.response_time_ms >= 0) b.set("response_time_ms", o.response_time_ms);
  if (!o.ok) {
    b.set("failure_reason", o.failure_reason.empty() ? "probe failed" : o.failure_reason);
    return b;
  }
  const auto set_text = [&b](const char* key, const std::string& v) {
    if (!v.empty()) b.set(key, v);
  };
  set_text("observed_fingerprint", o.fingerprint_sha256_hex);
  set_text("serial", o.serial_hex);
  set_text("cert_subject", o.subject_dn);
  set_text("cert_issuer", o.issuer_dn);
  set_text("tls_version", o.tls_version);
  set_text("cipher_suite", o.cipher_suite);
  if (o.not_before > 0) b.set("cert_not_before", events::format_rfc3339(o.not_before * 1000000));
  if (o.not_after > 0) b.set("cert_not_after", events::format_rfc3339(o.not_after * 1000000));
  return b;
}

}  // namespace

struct health_probe_loop::impl {
  impl(actors::entity_runtime& r, due_health_checks& s, const infra::clock& c, endpoint_prober p,
       health_probe_options o)
      : runtime(r), source(s), clock(c), prober(std::move(p)), options(o) {}

  actors::entity_runtime& runtime;
  due_health_checks& source;
  const infra::clock& clock;
  endpoint_prober prober;
  health_probe_options options;
  std::function<void(const tick_report&)> on_probe;

  std::mutex mu;
  std::condition_variable work_cv;  ///< a check was queued, or stopping
  std::condition_variable idle_cv;  ///< a probe finished
  std::deque<health_probe_target> queue;
  std::set<std::string> pending;                           ///< queued or in progress
  std::map<std::string, events::timestamp_us> dispatched;  ///< check id -> last queued at
  std::map<std::string, std::string> inventoried;          ///< check id -> fingerprint last fed
  bool stopping = false;
  std::vector<std::thread> workers;

  void run() {
    for (;;) {
      health_probe_target t;
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [this] { return stopping || !queue.empty(); });
        if (stopping) return;
        t = std::move(queue.front());
        queue.pop_front();
      }
      probe(t);
      {
        std::lock_guard<std::mutex> lock(mu);
        pending.erase(t.id);
      }
      idle_cv.notify_all();
    }
  }

  void probe(const health_probe_target& t) {
    const auto checked_at = clock.now();
    const auto outcome = prober(t);
    auto report = start_report("health", checked_at);
    // One command id per check and probe time: a retried delivery records the probe once.
    send_system_command(runtime, report, "health_check", "health_check.record_probe", t.id,
                        probe_body(outcome, checked_at),
                        "health_probe:" + t.id + ":" + std::to_string(checked_at),
                        outcome.ok ? "ok" : outcome.failure_reason);
    if (outcome.ok && !outcome.pem.empty()) inventory(t, outcome, report);
    if (on_probe) on_probe(report);
  }

  /// What a monitored endpoint serves belongs in the one inventory too (source "health-check",
  /// the endpoint as location, the chain with it). Fed when the served leaf differs from the
  /// last one this process fed for the check, not on every probe: a check probed every 30 s
  /// would otherwise add a discovery scan per probe. After a restart the first probe feeds
  /// again, which the pipeline records as one more sighting of a known certificate.
  void inventory(const health_probe_target& t, const probe_outcome& o, tick_report& report) {
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = inventoried.find(t.id);
      if (it != inventoried.end() && it->second == o.fingerprint_sha256_hex) return;
    }
    actors::discovery_report d;
    d.source = "health-check";
    d.source_id = t.id;
    d.principal = "system:health";
    d.correlation_id = "health_inventory:" + t.id + ":" + o.fingerprint_sha256_hex.substr(0, 16);
    d.items.push_back({t.endpoint, "PEM", o.pem, o.tls_version});
    for (const auto& c : o.chain) d.items.push_back({t.endpoint, "PEM", c, o.tls_version});
    auto recorded = actors::record_discovery(runtime, d);
    loop_action a;
    a.command = "discovery.record";
    a.entity_id = t.id;
    a.ok = recorded.ok;
    a.detail = recorded.ok ? t.endpoint : recorded.error;
    report.actions.push_back(std::move(a));
    if (!recorded.ok) return;
    std::lock_guard<std::mutex> lock(mu);
    inventoried[t.id] = o.fingerprint_sha256_hex;
  }
};

health_probe_loop::health_probe_loop(actors::entity_runtime& runtime, due_health_checks& source,
                                     const infra::clock& clock, endpoint_prober prober,
                                     health_probe_options options)
    : impl_(std::make_unique<impl>(runtime, source, clock, std::move(prober), options)) {
  const size_t n = options.workers == 0 ? 1 : options.workers;
  for (size_t i = 0; i < n; ++i) impl_->workers.emplace_back([this] { impl_->run(); });
}

health_probe_loop::~health_probe_loop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    impl_->queue.clear();
  }
  impl_->work_cv.notify_all();
  for (auto& w : impl_->workers) w.join();
}

void health_probe_loop::on_probe(std::function<void(const tick_report&)> callback) {
  impl_->on_probe = std::move(callback);
}

tick_report health_probe_loop::tick(events::timestamp_us now) {
  auto report = start_report("health", now);
  std::string error;
  const auto due = impl_->source.due(now, impl_->options.batch, error);
  if (!error.empty()) {
    report.errors.push_back(error);
    return report;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& t : due) {
      if (impl_->pending.count(t.id) > 0) continue;
      auto last = impl_->dispatched.find(t.id);
      if (last != impl_->dispatched.end() && now - last->second < t.interval_seconds * 1000000)
        continue;  // probed already; the read model has not caught up
      if (impl_->queue.size() >= impl_->options.queue_limit) break;  // the next tick takes it
      impl_->pending.insert(t.id);
      impl_->dispatched[t.id] = now;
      impl_->queue.push_back(t);
      report.actions.push_back({"health_check.probe", t.id, t.endpoint, true, false});
    }
  }
  impl_->work_cv.notify_all();
  return report;
}

void health_probe_loop::drain() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->idle_cv.wait(lock, [this] { return impl_->pending.empty(); });
}

}  // namespace certctl::schedulers
