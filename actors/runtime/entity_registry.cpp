#include "actors/runtime/entity_registry.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "domain/rules.hpp"

namespace certctl::actors {
namespace {

using domain::domain_errc;
using domain::domain_error;

struct registry_state {
  std::unordered_map<std::string, caf::actor> entities;
  std::unordered_set<std::string> known_kinds;  ///< kinds make_aggregate accepted

  bool is_kind(const std::string& kind) {
    if (known_kinds.count(kind) != 0) return true;
    if (!domain::make_aggregate(kind, "probe")) return false;  // not cached: input-controlled
    known_kinds.insert(kind);
    return true;
  }
};
using registry_actor_t = caf::stateful_actor<registry_state>;

/// Forgets the entity and releases it, unless the slot already holds a newer one.
void let_go(registry_actor_t* self, const std::string& key, const caf::actor& who) {
  auto it = self->state.entities.find(key);
  if (it != self->state.entities.end() && it->second == who) self->state.entities.erase(it);
  self->send(who, release_atom_v);
}

/// Asks every resident entity whether it is idle and lets those go; `done` runs once all of
/// them answered (an entity that quit meanwhile counts as answered).
void sweep(registry_actor_t* self, std::function<void()> done) {
  auto& entities = self->state.entities;
  if (entities.empty()) {
    if (done) done();
    return;
  }
  auto remaining = std::make_shared<size_t>(entities.size());
  auto answered = [remaining, done] {
    if (--*remaining == 0 && done) done();
  };
  for (const auto& [key, entity] : entities) {
    self->request(entity, caf::infinite, tick_atom_v)
        .then(
            [self, answered, key = key, who = entity](bool idle) {
              if (idle) let_go(self, key, who);
              answered();
            },
            [answered](caf::error&) { answered(); });
  }
}

caf::behavior registry_actor(registry_actor_t* self, deps d) {
  // Entities passivate between idle_timeout and 1.5 x idle_timeout after their last message.
  const auto period =
      std::max<caf::timespan>(std::chrono::duration_cast<caf::timespan>(d.options.idle_timeout) / 2,
                              std::chrono::milliseconds(1));
  self->delayed_send(self, period, tick_atom_v);
  return {
      [=](submit_atom, const std::string& kind, command_ptr& cmd, completion_ptr& done) {
        if (!self->state.is_kind(kind)) {
          done->deliver(domain_error{domain_errc::invalid, "unknown entity kind '" + kind + "'"});
          return;
        }
        if (!domain::is_valid_id(cmd->entity_id)) {
          done->deliver(domain_error{domain_errc::invalid,
                                     "invalid " + kind + " id '" + cmd->entity_id + "'"});
          return;
        }
        const auto key = domain::stream_id(kind, cmd->entity_id);
        auto& slot = self->state.entities[key];
        if (!slot) slot = spawn_entity(self, d, kind, cmd->entity_id);
        // A plain send, like the release: CAF keeps the order of messages from one sender to
        // one receiver, so a command forwarded before a release is handled before it.
        self->send(slot, exec_atom_v, std::move(cmd), std::move(done));
      },
      [=](tick_atom) {
        sweep(self, nullptr);
        self->delayed_send(self, period, tick_atom_v);
      },
      [=](sweep_atom) -> caf::result<size_t> {
        auto rp = self->make_response_promise<size_t>();
        sweep(self, [self, rp]() mutable { rp.deliver(self->state.entities.size()); });
        return rp;
      },
      [=](count_atom) -> size_t { return self->state.entities.size(); },
      [=](evict_atom, const stream_predicate& matches) {
        auto& entities = self->state.entities;
        for (auto it = entities.begin(); it != entities.end();) {
          if (!(*matches)(it->first)) {
            ++it;
            continue;
          }
          // As for passivation: commands already forwarded are drained before it quits.
          self->send(it->second, release_atom_v);
          it = entities.erase(it);
        }
      },
  };
}

}  // namespace

caf::actor spawn_registry(caf::actor_system& system, const deps& d) {
  return system.spawn(registry_actor, d);
}

}  // namespace certctl::actors
