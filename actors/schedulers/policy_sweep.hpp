#pragma once
/// The governance sweep: evaluates every policy rule against the inventory, a batch of
/// certificates per tick (continuing where the last tick stopped, wrapping around), and
/// records each new finding as policy.violation_recorded. A rule added today thus reports the
/// certificates that already break it, not only the ones issued after it.

#include <string>

#include "actors/schedulers/tick_report.hpp"
#include "actors/workflows/policy_engine.hpp"

namespace certctl::schedulers {

/// Pages through the certificates the sweep looks at (not Archived), in id order.
class certificate_pager {
 public:
  virtual ~certificate_pager() = default;
  struct row {
    std::string id;
    events::json_object view;
  };
  /// Up to `limit` certificates with an id above `after_id`; an error leaves `error` set.
  virtual std::vector<row> certificates_after(const std::string& after_id, size_t limit,
                                              std::string& error) = 0;
};

class policy_sweep {
 public:
  policy_sweep(actors::policy_engine& engine, certificate_pager& pager, size_t batch = 200);

  tick_report tick(events::timestamp_us now);

 private:
  actors::policy_engine& engine_;
  certificate_pager& pager_;
  size_t batch_;
  std::string cursor_;  ///< last id looked at; "" starts from the beginning
};

}  // namespace certctl::schedulers
