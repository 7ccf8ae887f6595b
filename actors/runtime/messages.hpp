#pragma once
/// CAF message vocabulary of the runtime. Included only by the runtime's .cpp files, so CAF
/// stays out of widely included headers. Atoms are at most 10 characters.

#include <caf/all.hpp>

#include <memory>

#include "actors/domain/aggregate.hpp"
#include "actors/runtime/entity_runtime.hpp"

namespace certctl::actors {

using command_ptr = std::shared_ptr<const domain::command>;
using reply_ptr = std::shared_ptr<const command_result>;

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
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::reply_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::append_done_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(certctl::actors::stream_predicate)
