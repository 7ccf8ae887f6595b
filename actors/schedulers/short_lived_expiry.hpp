#pragma once
/// Loop 6, short-lived expiry: certificates from profiles with allow_short_lived live minutes
/// or hours, so this loop runs far more often than the renewal check and only marks the
/// expired ones Expired. It shares the renewal check's command ids, so whichever loop sees a
/// certificate first marks it and the other writes nothing.

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

class short_lived_expiry {
 public:
  short_lived_expiry(actors::entity_runtime& runtime, due_work_source& source, size_t batch = 1000);

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  due_work_source& source_;
  size_t batch_;
};

}  // namespace certctl::schedulers
