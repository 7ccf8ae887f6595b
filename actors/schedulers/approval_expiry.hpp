#pragma once
/// The approval expiry loop: approval requests still pending `timeout` after they were made
/// expire, and their jobs are cancelled (actors/workflows/approval.hpp), so a forgotten request
/// does not hold a renewal forever and the certificate shows why it was not renewed.

#include <chrono>
#include <string>
#include <vector>

#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

/// The pending approval requests, from the read model (tools/server adapter).
class pending_approvals {
 public:
  virtual ~pending_approvals() = default;
  /// Ids of requests pending since before `before`, oldest first; `error` set on failure.
  virtual std::vector<std::string> pending_before(events::timestamp_us before, size_t limit,
                                                  std::string& error) = 0;
};

class approval_expiry {
 public:
  approval_expiry(actors::entity_runtime& runtime, pending_approvals& source,
                  std::chrono::hours timeout, size_t batch = 200);

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  pending_approvals& source_;
  std::chrono::hours timeout_;
  size_t batch_;
};

}  // namespace certctl::schedulers
