#pragma once
/// Loop 5, agent health: an Online agent that has not sent a heartbeat for `offline_after`
/// (about three heartbeat intervals; default 5 min) -> agent.mark_offline. Its next heartbeat
/// makes it Online again (domain/resource.cpp).

#include <chrono>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

struct agent_health_options {
  std::chrono::seconds offline_after{std::chrono::minutes(5)};
  size_t batch = 500;
};

class agent_health {
 public:
  agent_health(actors::entity_runtime& runtime, due_work_source& source,
               agent_health_options options = {});

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  due_work_source& source_;
  agent_health_options options_;
};

}  // namespace certctl::schedulers
