#include "actors/schedulers/policy_sweep.hpp"

namespace certctl::schedulers {

policy_sweep::policy_sweep(actors::policy_engine& engine, certificate_pager& pager, size_t batch)
    : engine_(engine), pager_(pager), batch_(batch == 0 ? 1 : batch) {}

tick_report policy_sweep::tick(events::timestamp_us now) {
  auto report = start_report("policies", now);
  std::string error;
  auto rows = pager_.certificates_after(cursor_, batch_, error);
  if (!error.empty()) {
    report.errors.push_back(error);
    return report;
  }
  // A short page means the end of the inventory: the next tick starts over.
  cursor_ = rows.size() < batch_ || rows.empty() ? std::string() : rows.back().id;
  for (const auto& row : rows) {
    const size_t added =
        engine_.record(row.id, engine_.findings(row.id, row.view), "system:policy-sweep");
    for (size_t i = 0; i < added; ++i)
      report.actions.push_back({"policy.record_violation", row.id, "", true, false});
  }
  return report;
}

}  // namespace certctl::schedulers
