#pragma once
/// CAF message vocabulary of the runtime. Included only by the runtime's .cpp files, so CAF
/// stays out of widely included headers. Atoms are at most 10 characters.

#include <caf/all.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "domain/aggregate.hpp"
#include "actors/runtime/entity_runtime.hpp"

namespace certctl::actors {

using command_ptr = std::shared_ptr<const domain::command>;

/// The caller's continuation for one command, travelling with it (registry -> entity queue)
/// instead of a request/response pair: no actor per command on the caller's side, no response
/// message. Whoever finishes the command calls `deliver`; only the first call reaches the
/// callback (the entity and, for `submit`, the timeout watch race for it), so the callback
/// runs exactly once if anyone delivers. Immutable apart from that flag. Nothing delivers when
/// the command is lost with its actor (runtime shutdown): `submit` then hears from the timeout
/// watch (while the runtime lives), `execute` from its own deadline.
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

/// Outcome of an append, handed from the store's writer thread back into the entity.
struct append_done {
  store::store_result<store::append_result> result;
  std::vector<events::proposed_event> events;  ///< what was appended, for local apply
};
using append_done_ptr = std::shared_ptr<const append_done>;
using stream_predicate = std::shared_ptr<const std::function<bool(const std::string&)>>;

}  // namespace certctl::actors

CAF_BEGIN_TYPE_ID_BLOCK(certctl, first_custom_type_id)
CAF_ADD_ATOM(certctl, certctl::actors, submit_atom, "submit")
CAF_ADD_ATOM(certctl, certctl::actors, exec_atom, "exec")
CAF_ADD_ATOM(certctl, certctl::actors, appended_atom, "appended")
CAF_ADD_ATOM(certctl, certctl::actors, passivate_atom, "passivate")
CAF_ADD_ATOM(certctl, certctl::actors, release_atom, "release")
CAF_ADD_ATOM(certctl, certctl::actors, count_atom, "count")
CAF_ADD_ATOM(certctl, certctl::actors, tick_atom, "tick")
CAF_ADD_ATOM(certctl, certctl::actors, evict_atom, "evict")
CAF_END_TYPE_ID_BLOCK(certctl)

// Shared pointers to immutable structs travel only between local actors; they are never
// serialised (cluster traffic goes through Kafka with its own codec).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::command_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::completion_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::append_done_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::stream_predicate)
