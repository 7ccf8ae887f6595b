#pragma once
/// `certctl-audit verify`'s check of the command table against the verified chain.
///
/// The command table (command_id -> outcome, position) is not in the hash chain, and needs no
/// anchor of its own: it is a cache of answers. Its outcome column is the reply a retried
/// request gets again; the decision it stands for (this command ran, and wrote these events)
/// is in the chain, since every event carries its command id as causation_id, and the row is
/// written in the same transaction as those events. What must hold, and what this checks, is
/// that the table agrees with the chain:
///
///   - a row with position p > 0: the event at p exists (p <= head) and was caused by that
///     command (a row pointing at another command's event, or past the head, is a forged or
///     stale "already done");
///   - no event caused by a recorded command lies after the row's position (a row claiming
///     less than the command wrote; position 0 claims it wrote nothing).
///
/// A forged outcome text (a different reply for a real command) is not detectable here; it
/// changes what a retrying client is told, never the log (docs/fault-tests.md).

#include <cstdint>
#include <string>

#include "events/result.hpp"

namespace certctl::audit {

struct command_check_report {
  std::int64_t commands_checked = 0;
  std::string problem;  ///< empty: consistent; else the first inconsistency, by command id
};

/// Runs the two checks above on the database of `store_url` for events up to `head`.
result<command_check_report, std::string> check_commands(const std::string& store_url,
                                                         std::int64_t head);

}  // namespace certctl::audit
