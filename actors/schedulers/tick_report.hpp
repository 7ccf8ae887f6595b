#pragma once
/// What one tick of a scheduler loop did, for tests, logs and metrics; and the helper every
/// loop uses to send its commands.

#include <cstddef>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"

namespace certctl::schedulers {

struct loop_action {
  std::string command;  ///< e.g. "certificate.mark_status"
  std::string entity_id;
  std::string detail;  ///< e.g. the new status, or the error message
  bool ok = false;
  bool duplicate = false;  ///< the command id was seen before: another tick or node acted
};

struct tick_report {
  std::string loop;            ///< "renewal", "jobs", "timeouts", "agents", "short-lived"
  std::string correlation_id;  ///< shared by the commands of one tick: "tick:<loop>:<now>"
  std::vector<loop_action> actions;
  std::vector<std::string> errors;  ///< the read side failed; nothing was done for it

  /// Commands named `command` that succeeded and wrote something new.
  size_t count(const std::string& command) const {
    size_t n = 0;
    for (const auto& a : actions)
      if (a.command == command && a.ok && !a.duplicate) ++n;
    return n;
  }
};

/// One log line: "renewal: 2 certificate.mark_status, 1 job.create; 1 failed (...)".
std::string summary(const tick_report& report);

/// An empty report for a tick of `loop` at `now`.
tick_report start_report(const std::string& loop, events::timestamp_us now);

/// Sends one command as principal "system:<loop>" with idempotency key `command_id`, and
/// records what happened in `report`. Returns the runtime's answer.
actors::command_result send_system_command(actors::entity_runtime& runtime, tick_report& report,
                                           const std::string& kind, const std::string& name,
                                           const std::string& entity_id, events::json_object body,
                                           const std::string& command_id,
                                           const std::string& detail = {});

/// Records the outcome of a command sent by other means (e.g. a shared workflow).
void record_action(tick_report& report, const std::string& name, const std::string& entity_id,
                   const actors::command_result& r, const std::string& detail = {});

}  // namespace certctl::schedulers
