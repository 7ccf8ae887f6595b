#include "tools/server/health_check_adapter.hpp"

#include "projections/health_check_projection.hpp"

namespace certctl::server {

std::vector<schedulers::health_probe_target> health_check_adapter::due(events::timestamp_us now,
                                                                       size_t limit,
                                                                       std::string& error) {
  // Other nodes' checks are skipped after the query: ask for more so a batch still fills.
  const auto asked = static_cast<std::int64_t>(is_local_ ? limit * 4 : limit);
  auto rows = projections::due_health_checks(*db_, now, asked);
  if (!rows) {
    error = "health checks due: " + rows.error().message;
    return {};
  }
  std::vector<schedulers::health_probe_target> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    if (out.size() == limit) break;
    if (is_local_ && !is_local_("health_check-" + r.id)) continue;
    out.push_back({r.id, r.endpoint, r.timeout_ms, r.interval_seconds});
  }
  return out;
}

}  // namespace certctl::server
