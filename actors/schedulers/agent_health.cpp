#include "actors/schedulers/agent_health.hpp"

namespace certctl::schedulers {

agent_health::agent_health(actors::entity_runtime& runtime, due_work_source& source,
                           agent_health_options options)
    : runtime_(runtime), source_(source), options_(options) {}

tick_report agent_health::tick(events::timestamp_us now) {
  auto report = start_report("agents", now);
  const auto threshold =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.offline_after).count();
  auto agents = source_.agents_silent_since(now - threshold, options_.batch);
  if (!agents) {
    report.errors.push_back("agents: " + agents.error().message);
    return report;
  }
  for (const auto& agent : *agents) {
    // Keyed by the last heartbeat: after the agent comes back and falls silent again, the
    // new silence gets its own id.
    send_system_command(runtime_, report, "agent", "agent.mark_offline", agent.id, {},
                        "offline:" + agent.id + ":" + std::to_string(agent.last_heartbeat_at));
  }
  return report;
}

}  // namespace certctl::schedulers
