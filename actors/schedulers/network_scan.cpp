#include "actors/schedulers/network_scan.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/workflows/discovery.hpp"
#include "domain/network_scan.hpp"
#include "events/time.hpp"
#include "infra/crypto/tls_probe.hpp"

namespace certctl::schedulers {

scan_prober tls_scan_prober(const net::outbound_guard& guard) {
  return [&guard](const net::ip_address& ip, int port, std::int64_t timeout_ms) {
    scan_probe_result out;
    crypto::tls_probe_request req;
    req.host = net::to_string(ip);
    req.port = port;
    net::outbound_limits limits;
    limits.connect_timeout = std::chrono::milliseconds(timeout_ms);
    limits.io_timeout = std::chrono::milliseconds(timeout_ms);
    auto served = crypto::probe_tls_certificate(guard, req, limits);
    if (!served) {
      out.error = served.error().log_line();
      return out;
    }
    out.tls = true;
    out.pem = std::move(served->pem);
    out.chain = std::move(served->chain_pem);
    out.tls_version = std::move(served->tls_version);
    return out;
  };
}

std::vector<net::ip_address> scan_hosts(const std::string& cidr) {
  std::vector<net::ip_address> out;
  std::string why;
  if (!domain::valid_scan_cidr(cidr, why)) return out;
  const auto slash = cidr.find('/');
  net::ip_address base;
  if (!net::parse_ip(cidr.substr(0, slash), base)) return out;
  const int bits = static_cast<int>(base.size()) * 8;
  const int prefix = slash == std::string::npos ? bits : std::stoi(cidr.substr(slash + 1));
  const int host_bits = bits - prefix;  // at most 12 (the domain caps the range)
  const std::uint32_t count = 1u << host_bits;
  // The low host_bits of the address vary; they span at most the last two bytes.
  const size_t last = base.size() - 1;
  std::uint32_t low = (static_cast<std::uint32_t>(base.bytes[last - 1]) << 8) | base.bytes[last];
  low &= ~(count - 1);
  const bool skip_edges = !base.v6 && host_bits >= 2;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (skip_edges && (i == 0 || i == count - 1)) continue;
    net::ip_address a = base;
    const std::uint32_t v = low | i;
    a.bytes[last - 1] = static_cast<std::uint8_t>(v >> 8);
    a.bytes[last] = static_cast<std::uint8_t>(v & 0xff);
    out.push_back(a);
  }
  return out;
}

std::string scan_source_path(const net::ip_address& ip, int port) {
  const std::string host = net::to_string(ip);
  return (ip.v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {

struct probe_job {
  net::ip_address ip;
  int port = 0;
  scan_probe_result result;
};

/// Runs every job on at most `concurrency` threads; returns when all are done.
void run_pool(std::vector<probe_job>& jobs, size_t concurrency, const scan_prober& prober,
              std::int64_t timeout_ms) {
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++)
      jobs[i].result = prober(jobs[i].ip, jobs[i].port, timeout_ms);
  };
  const size_t n = std::min(std::max<size_t>(concurrency, 1), jobs.size());
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t i = 0; i < n; ++i) threads.emplace_back(work);
  for (auto& t : threads) t.join();
}

std::int64_t since_ms(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started)
      .count();
}

}  // namespace

struct network_scanner::impl {
  impl(actors::entity_runtime& r, const net::outbound_guard& g, const infra::clock& c,
       scan_prober p, network_scan_options o)
      : runtime(r), guard(g), clock(c), prober(std::move(p)), options(o) {}

  actors::entity_runtime& runtime;
  const net::outbound_guard& guard;
  const infra::clock& clock;
  scan_prober prober;
  network_scan_options options;

  std::mutex mu;
  std::condition_variable cv;  ///< a slot freed, work queued, a scan finished, or stopping
  size_t running = 0;          ///< scans in progress (all callers)
  std::deque<std::string> queue;
  std::set<std::string> pending;  ///< periodic: queued or running
  bool stopping = false;
  std::thread periodic;

  network_scan_outcome scan(const std::string& id, const std::string& principal,
                            const std::string& correlation_id);

  void run_periodic() {
    for (;;) {
      std::string id;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [this] { return stopping || !queue.empty(); });
        if (stopping) return;
        id = queue.front();
        queue.pop_front();
      }
      auto outcome =
          scan(id, "system:network-scan", "tick:network-scan:" + std::to_string(clock.now()));
      if (!outcome.ok)
        std::fprintf(stderr, "network scan %s: %s\n", id.c_str(), outcome.error.c_str());
      {
        std::lock_guard<std::mutex> lock(mu);
        pending.erase(id);
      }
      cv.notify_all();
    }
  }
};

network_scan_outcome network_scanner::impl::scan(const std::string& id,
                                                 const std::string& principal,
                                                 const std::string& correlation_id) {
  network_scan_outcome out;
  auto target = runtime.read("network_scan_target", id);
  if (!target) {
    out.not_found = target.error().code == domain::domain_errc::not_found;
    out.error = target.error().message;
    return out;
  }
  const auto& view = target->view;
  {  // a bounded number of scans at once: each holds up to `concurrency` sockets
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return running < std::max<size_t>(options.max_parallel_scans, 1); });
    ++running;
  }
  const auto started_at = clock.now();
  const auto started = std::chrono::steady_clock::now();
  const auto ports = domain::scan_ports(view);
  actors::discovery_report report;
  report.source = "server-scanner";
  report.source_id = id;
  report.principal = principal;
  report.correlation_id = correlation_id;
  report.started_at = events::format_rfc3339(started_at);
  std::vector<probe_job> jobs;
  for (const auto& cidr : view.str_array("cidrs")) {
    report.directories.push_back(cidr);
    std::int64_t refused = 0;
    std::string refused_class;
    for (const auto& ip : scan_hosts(cidr)) {
      if (!guard.permits(ip)) {  // never probed: the guard would refuse the connect anyway
        ++refused;
        refused_class = net::to_string(net::classify(ip));
        continue;
      }
      for (auto port : ports) jobs.push_back({ip, static_cast<int>(port), {}});
    }
    if (refused > 0)
      report.errors.push_back(cidr + ": " + std::to_string(refused) +
                              " address(es) refused by the outbound guard (" + refused_class +
                              "; see CERTCTL_OUTBOUND_ALLOW_CIDRS)");
    out.refused += refused;
  }
  out.probes = static_cast<std::int64_t>(jobs.size());
  run_pool(jobs, options.concurrency, prober, view.int64("timeout_ms", 5000));
  std::int64_t over_cap = 0;
  const size_t cap = std::min(options.max_findings, actors::max_discovery_items);
  for (auto& j : jobs) {
    if (!j.result.tls) continue;  // closed ports and plain-text services are the norm
    ++out.tls_endpoints;
    // One report holds at most max_discovery_items (the pipeline's cap); the rest are named
    // as an error so the operator splits the target rather than losing findings silently.
    if (report.items.size() + 1 + j.result.chain.size() > cap) {
      ++over_cap;
      continue;
    }
    // The chain the endpoint sends is inventory too: an intermediate that expires breaks every
    // endpoint that serves it. Its location is the endpoint, so the pipeline lists one
    // intermediate once with every endpoint that sends it.
    const std::string where = scan_source_path(j.ip, j.port);
    report.items.push_back({where, "PEM", std::move(j.result.pem), j.result.tls_version});
    for (auto& c : j.result.chain)
      report.items.push_back({where, "PEM", std::move(c), j.result.tls_version});
  }
  if (over_cap > 0)
    report.errors.push_back(std::to_string(over_cap) + " TLS endpoint(s) past the first " +
                            std::to_string(cap) + " not recorded: split the target");
  out.duration_ms = since_ms(started);
  report.scan_duration_ms = out.duration_ms;
  auto recorded = actors::record_discovery(runtime, report);
  {
    std::lock_guard<std::mutex> lock(mu);
    --running;
  }
  cv.notify_all();
  if (!recorded.ok) {
    out.error = recorded.error;
    return out;
  }
  out.scan = recorded.scan;
  out.position = recorded.position;
  events::json_object stats;
  stats.set("last_scan_at", report.started_at)
      .set("last_scan_duration_ms", out.duration_ms)
      .set("last_scan_certs_found", recorded.scan.int64("certificates_found"))
      .set("discovery_scan_id", recorded.scan.str("id"));
  domain::command c;
  c.name = "network_scan_target.record_scan";
  c.entity_id = id;
  c.body = std::move(stats);
  c.principal = principal;
  c.correlation_id = correlation_id;
  auto noted = runtime.execute("network_scan_target", std::move(c));
  if (!noted) {  // deleted while scanning: the findings stay, the stats have nowhere to go
    out.error = "scan recorded, target stats not: " + noted.error().message;
    return out;
  }
  out.position = std::max(out.position, noted->position);
  out.ok = true;
  return out;
}

network_scanner::network_scanner(actors::entity_runtime& runtime, const net::outbound_guard& guard,
                                 const infra::clock& clock, scan_prober prober,
                                 network_scan_options options)
    : impl_(std::make_unique<impl>(runtime, guard, clock, std::move(prober), options)) {
  impl_->periodic = std::thread([this] { impl_->run_periodic(); });
}

network_scanner::~network_scanner() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    impl_->queue.clear();
  }
  impl_->cv.notify_all();
  impl_->periodic.join();
}

network_scan_outcome network_scanner::scan(const std::string& id, const std::string& principal,
                                           const std::string& correlation_id) {
  return impl_->scan(id, principal, correlation_id);
}

tick_report network_scanner::tick(events::timestamp_us now, const scan_target_lister& list) {
  auto report = start_report("network-scan", now);
  std::string error;
  const auto targets = list(error);
  if (!error.empty()) {
    report.errors.push_back(error);
    return report;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& t : targets) {
      const std::string id = t.str("id");
      if (id.empty() || !t.boolean("enabled", true) || impl_->pending.count(id) > 0) continue;
      if (t.is_string("last_scan_at")) {
        auto last = events::parse_rfc3339(t.str("last_scan_at"));
        if (last && now - *last < t.int64("scan_interval_hours", 6) * 3600LL * 1000000) continue;
      }
      if (impl_->queue.size() >= impl_->options.queue_limit) break;  // the next tick takes it
      impl_->pending.insert(id);
      impl_->queue.push_back(id);
      report.actions.push_back({"network_scan_target.scan", id, "queued", true, false});
    }
  }
  impl_->cv.notify_all();
  return report;
}

void network_scanner::drain() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->pending.empty(); });
}

}  // namespace certctl::schedulers
