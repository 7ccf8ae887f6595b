#include "actors/schedulers/approval_expiry.hpp"

#include "actors/workflows/approval.hpp"

namespace certctl::schedulers {

approval_expiry::approval_expiry(actors::entity_runtime& runtime, pending_approvals& source,
                                 std::chrono::hours timeout, size_t batch)
    : runtime_(runtime), source_(source), timeout_(timeout), batch_(batch) {}

tick_report approval_expiry::tick(events::timestamp_us now) {
  auto report = start_report("approvals", now);
  const auto cutoff = now - std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
  std::string error;
  const auto ids = source_.pending_before(cutoff, batch_, error);
  if (!error.empty()) {
    report.errors.push_back(error);
    return report;
  }
  const actors::approval_context ctx{"system:approvals", "", report.correlation_id};
  for (const auto& id : ids) {
    // A request decided meanwhile (the read model lags) answers conflict: nothing to do.
    auto out = actors::decide_approval(runtime_, {}, id, actors::approval_action::expire, "", ctx);
    report.actions.push_back({"approval.expire", id,
                              out.approval ? "expired" : out.approval.error().message,
                              out.approval.ok(), false});
  }
  return report;
}

}  // namespace certctl::schedulers
