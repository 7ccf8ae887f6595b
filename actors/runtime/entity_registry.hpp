#pragma once
/// The registry actor: the one address commands are sent to. It spawns an entity per stream
/// on demand, forwards each command to it, and lets idle entities go. Internal to the runtime
/// (it includes CAF).
///
///   submit(kind, cmd, done)  refuse an unknown kind or invalid id through `done`; else
///                            forward to the entity (spawned if not resident)
///   tick                     periodic (every idle_timeout / 2): a sweep
///   sweep -> size_t          a sweep now; answered once every entity answered, with the
///                            number still resident
///   evict(predicate)         release the matching entities (partitions this node lost)
///   count -> size_t          resident entities
///
/// A sweep asks each entity whether it has been idle for idle_timeout by the injected clock;
/// those that say so are forgotten and released. Commands forwarded before the release are
/// already in the entity's mailbox, ahead of it: the entity drains them, then quits; later
/// commands spawn a fresh entity that recovers from the store.

#include "actors/runtime/entity_actor.hpp"

namespace certctl::actors {

caf::actor spawn_registry(caf::actor_system& system, const deps& d);

}  // namespace certctl::actors
