#pragma once
/// The caller's continuation for one command. CAF-free, so the deadline watch can hold it
/// without including CAF; internal to the runtime.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "actors/runtime/entity_runtime.hpp"
#include "domain/aggregate.hpp"

namespace certctl::actors {

using command_ptr = std::shared_ptr<const domain::command>;

/// Travels with its command (registry -> entity queue) instead of a request/response pair: no
/// actor per command on the caller's side, no response message. Whoever finishes the command
/// calls `deliver`; only the first call reaches the callback (the entity and, for `submit`,
/// the deadline watch race for it), so the callback runs exactly once if anyone delivers.
/// Immutable apart from that flag. Nothing delivers when the command is lost with its actor
/// (runtime shutdown): `submit` then hears from the deadline watch (while the runtime lives),
/// `execute` from its own deadline.
class completion {
 public:
  completion(command_callback fn, std::string kind, command_ptr cmd)
      : fn_(std::move(fn)), kind_(std::move(kind)), cmd_(std::move(cmd)) {}

  /// Calls the callback with `r` unless it was called before; true when this call did. Runs
  /// the callback on the calling thread (an entity's or the registry's); an exception from it
  /// is swallowed so it cannot take the entity (and, linked, the registry) down.
  bool deliver(command_result r) const {
    if (done_.exchange(true, std::memory_order_acq_rel)) return false;
    try {
      fn_(std::move(r));
    } catch (...) {  // the caller's bug; the entity carries on
    }
    return true;
  }

  const std::string& kind() const { return kind_; }
  const domain::command& command() const { return *cmd_; }

 private:
  command_callback fn_;
  std::string kind_;
  command_ptr cmd_;
  mutable std::atomic<bool> done_{false};
};
using completion_ptr = std::shared_ptr<const completion>;

/// "<kind> <id> did not answer within <n> ms": the `unavailable` message of a timeout.
inline std::string did_not_answer(const completion& c, std::chrono::milliseconds timeout) {
  return c.kind() + " " + c.command().entity_id + " did not answer within " +
         std::to_string(timeout.count()) + " ms";
}

}  // namespace certctl::actors
