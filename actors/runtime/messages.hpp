#pragma once
/// CAF message vocabulary of the runtime. Included only by the runtime's .cpp files and its
/// internal headers, so CAF stays out of widely included headers. Atoms are at most 10
/// characters.
///
///   facade   --submit(kind, cmd, done)-->  registry  --exec(cmd, done)-->  entity
///   store    --appended(result)---------------------------------------->  entity
///   registry --tick--> entity, answered with "idle, let me go" (bool); then release
///   facade   --sweep--> registry (a sweep now, answered with the resident count)
///   facade   --evict(predicate)--> registry --release--> matching entities
///   facade   --count--> registry

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/completion.hpp"
#include "actors/runtime/entity_runtime.hpp"
#include "domain/aggregate.hpp"

namespace certctl::actors {

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
CAF_ADD_ATOM(certctl, certctl::actors, release_atom, "release")
CAF_ADD_ATOM(certctl, certctl::actors, count_atom, "count")
CAF_ADD_ATOM(certctl, certctl::actors, tick_atom, "tick")
CAF_ADD_ATOM(certctl, certctl::actors, sweep_atom, "sweep")
CAF_ADD_ATOM(certctl, certctl::actors, evict_atom, "evict")
CAF_END_TYPE_ID_BLOCK(certctl)

// Shared pointers to immutable structs travel only between local actors; they are never
// serialised (cluster traffic goes through Kafka with its own codec).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::command_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::completion_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::append_done_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::stream_predicate)
