#include "actors/schedulers/cloud_discovery.hpp"

#include <chrono>

#include "actors/workflows/discovery.hpp"
#include "events/time.hpp"

namespace certctl::schedulers {

cloud_discovery_loop::cloud_discovery_loop(actors::entity_runtime& runtime,
                                           std::vector<cloud_discovery_source> sources)
    : runtime_(runtime), sources_(std::move(sources)) {}

tick_report cloud_discovery_loop::tick(events::timestamp_us now) {
  auto report = start_report("cloud-discovery", now);
  for (const auto& s : sources_) {
    const auto started = std::chrono::steady_clock::now();
    actors::discovery_report d;
    d.source = s.source;
    d.source_id = s.source_id;
    d.principal = "system:cloud-discovery";
    d.correlation_id = report.correlation_id;
    d.started_at = events::format_rfc3339(now);
    auto page = s.connector->list();
    if (page) {
      for (const auto& c : page->certificates) {
        if (c.cert_pem.empty()) continue;
        d.items.push_back({c.location, "PEM", c.cert_pem, {}});
      }
      d.errors = page->warnings;
    } else {
      // Recorded as a scan that found nothing, with why: the inventory shows the gap.
      d.errors.push_back(page.error().message);
      report.errors.push_back(s.source + ": " + page.error().message);
    }
    d.scan_duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    auto recorded = actors::record_discovery(runtime_, d);
    loop_action a;
    a.command = "discovery_scan.record";
    a.entity_id = s.source_id;
    a.ok = recorded.ok && page.ok();
    a.detail = recorded.ok ? std::to_string(recorded.scan.int64("certificates_found")) +
                                 " found, " + std::to_string(d.errors.size()) + " errors"
                           : recorded.error;
    report.actions.push_back(std::move(a));
  }
  return report;
}

}  // namespace certctl::schedulers
