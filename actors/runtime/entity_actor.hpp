#pragma once
/// The entity actor: one per resident stream, spawned by the registry. Internal to the
/// runtime (it includes CAF).
///
/// An entity handles one command at a time: decide -> append (asynchronously, through the
/// store's group commit) -> apply -> reply. While an append is in flight further commands
/// wait in its queue, so the actor thread never blocks on the database. A read (the reserved
/// command `read_command_name`) is answered from the state, in queue order, without deciding.
///
///   exec(cmd, done)     queue it; run it when nothing is in flight
///   appended(result)    apply what committed (or catch up and decide again after a
///                       version conflict), answer, run the next
///   tick -> bool        "idle for idle_timeout by the injected clock: let me go"
///   release             the registry forgot us: drain the queue, then quit

#include <string>

#include "actors/runtime/messages.hpp"
#include "infra/clock.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::actors {

/// What every actor of one runtime shares; owned by the facade, which outlives them.
struct deps {
  store::event_store* store;
  const infra::clock* clock;
  runtime_options options;
};

/// Spawns the entity for `kind`/`id`, linked to `registry` (when the registry goes, every
/// entity goes with it). It recovers from the latest snapshot plus later events first.
caf::actor spawn_entity(caf::event_based_actor* registry, const deps& d, const std::string& kind,
                        const std::string& id);

}  // namespace certctl::actors
