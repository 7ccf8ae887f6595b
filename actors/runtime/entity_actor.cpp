#include "actors/runtime/entity_actor.hpp"

#include <deque>
#include <iostream>
#include <utility>

#include "domain/rules.hpp"
#include "infra/store/event_id.hpp"

namespace certctl::actors {
namespace {

using domain::domain_errc;
using domain::domain_error;

struct entity_state {
  std::string kind, id;
  std::unique_ptr<domain::aggregate> agg;
  std::string stream;
  std::int64_t version = 0;
  std::int64_t since_snapshot = 0;
  std::string load_error;
  bool busy = false;         ///< a command is running (its append may be in flight)
  bool draining = false;     ///< process_next is on the stack: finishing must not re-enter it
  bool released = false;     ///< the registry forgot us: quit once the queue is empty
  bool passivating = false;  ///< told the registry we are idle
  /// An append failed: the log may hold it anyway (a connection lost during COMMIT), so the
  /// state may be behind the log. Caught up before the next command is decided.
  bool stale = false;
  events::timestamp_us last_active = 0;  ///< injected clock, so tests drive idleness
  int conflict_retries = 0;
  std::deque<std::pair<command_ptr, completion_ptr>> queue;
  std::pair<command_ptr, completion_ptr> current;
};
using entity_actor_t = caf::stateful_actor<entity_state>;

bool is_read(const domain::command& cmd) {
  return cmd.name == read_command_name;
}

/// Folds events after `state.version` into the aggregate. Recovery reads run once per
/// activation (and after a version conflict), never per command.
bool catch_up(entity_state& st, store::event_store& store) {
  auto evs = store.read_stream(st.stream, st.version + 1);
  if (!evs) {
    st.load_error = evs.error().message;
    return false;
  }
  for (const auto& e : *evs) {
    st.agg->apply(e);
    st.version = e.stream_version;
  }
  return true;
}

/// True when the log confirms the snapshot's anchor: the stream's event at the snapshot's
/// version sits at the recorded position with the recorded chain hash. A snapshot sits outside
/// the chain, so one edited in the database (or left from a log that was since rewritten)
/// would otherwise become the entity's state unnoticed. Refused snapshots cost a full replay,
/// never a wrong state; the next snapshot written replaces them.
bool snapshot_matches_log(const store::snapshot& snap, store::event_store& store) {
  auto warn = [&](const std::string& why) {
    std::cerr << "warning: snapshot of " << snap.stream_id << " at version " << snap.stream_version
              << " ignored (" << why << "); replaying its events" << std::endl;
    return false;
  };
  if (snap.position <= 0 || snap.hash.empty()) return warn("it records no chain anchor");
  auto at = store.read_stream(snap.stream_id, snap.stream_version, 1);
  // Unreadable now: replaying will meet the same error and report it as the load error.
  if (!at) return false;
  if (at->empty() || at->front().stream_version != snap.stream_version)
    return warn("the log holds no event at that version");
  const auto& e = at->front();
  if (e.position != snap.position)
    return warn("recorded position " + std::to_string(snap.position) + ", the log has " +
                std::to_string(e.position));
  if (e.hash != snap.hash)
    return warn("its hash does not match the log's at position " + std::to_string(e.position));
  return true;
}

/// Builds the aggregate from scratch: the snapshot, if any, then the events after it. A store
/// error leaves `load_error` set.
void recover(entity_state& st, store::event_store& store) {
  st.agg = domain::make_aggregate(st.kind, st.id);
  st.version = 0;
  st.load_error.clear();
  auto snap = store.load_snapshot(st.stream);
  if (snap && snap->has_value() && snapshot_matches_log(**snap, store)) {
    if (auto parsed = events::json_object::parse((*snap)->state)) {
      st.agg->restore(*parsed);
      st.version = (*snap)->stream_version;
    }
  }
  catch_up(st, store);
}

void process_next(entity_actor_t* self, const deps& d);

void finish_current(entity_actor_t* self, const deps& d, command_result r) {
  auto& st = self->state;
  auto done = std::move(st.current.second);
  st.current = {};
  st.busy = false;
  st.conflict_retries = 0;
  // On this actor's thread, in command order: the callback must not block (see submit).
  done->deliver(std::move(r));
  // Inside process_next its loop takes the next command; recursing instead would grow the
  // stack with every command answered without an append (reads, rejections).
  if (!st.draining) process_next(self, d);
}

void run_current(entity_actor_t* self, const deps& d) {
  auto& st = self->state;
  const auto& cmd = *st.current.first;
  auto decided = st.agg->decide(cmd);
  if (!decided) {
    // A retry of a command that already committed (same id: a client resending after a lost
    // answer, or a redelivery to a new owner) is decided against the state it produced and
    // would be refused ("already exists"). It is the duplicate it is. Only rejected commands
    // with an id pay for this lookup.
    if (!cmd.command_id.empty()) {
      auto seen = d.store->find_command(cmd.command_id);
      // Without the lookup (the store is down, e.g. PostgreSQL restarting) a retry of a
      // committed command would be refused as a conflict; "unavailable" lets it retry again.
      if (!seen)
        return finish_current(
            self, d,
            domain_error{domain_errc::unavailable,
                         "cannot look up command " + cmd.command_id + ": " + seen.error().message});
      if (seen->has_value() && (*seen)->position > 0)
        return finish_current(self, d,
                              command_outcome{st.agg->view(), (*seen)->position, st.version, true});
    }
    return finish_current(self, d, decided.error());
  }
  if (decided->empty()) {
    return finish_current(self, d, command_outcome{st.agg->view(), 0, st.version, false});
  }
  store::append_request req;
  req.stream_id = st.stream;
  req.expected = st.version == 0 ? store::expected_version::no_stream()
                                 : store::expected_version::exact(st.version);
  req.command_id = cmd.command_id;
  for (auto& de : *decided) {
    events::proposed_event pe;
    pe.type = de.type;
    pe.payload = de.payload.dump();
    pe.occurred_at = cmd.now;
    pe.principal = cmd.principal;
    pe.source_address = cmd.source_address;
    pe.correlation_id = cmd.correlation_id;
    pe.causation_id = cmd.command_id.empty() ? cmd.correlation_id : cmd.command_id;
    req.events.push_back(std::move(pe));
  }
  // Event ids are fixed here so the local apply after commit sees what the log holds.
  for (auto& pe : req.events) pe.event_id = store::new_event_id();
  auto proposed = req.events;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  d.store->append_async(
      std::move(req), [me, proposed](store::store_result<store::append_result> r) {
        caf::anon_send(me, appended_atom_v,
                       std::make_shared<const append_done>(append_done{std::move(r), proposed}));
      });
}

/// Starts the command in `current`: it finishes here (a read, a load failure, a rejection,
/// a decision without events) or leaves an append in flight.
void start_current(entity_actor_t* self, const deps& d) {
  auto& st = self->state;
  // Deciding on a state behind the log would refuse every later command for good (job.fail on
  // a job the log has Running, while this state still says Pending); catching up sets
  // load_error when the store is still down.
  if (st.stale && st.load_error.empty()) catch_up(st, *d.store);
  if (!st.load_error.empty()) {
    // The store failed while this entity loaded (or caught up), e.g. during a PostgreSQL
    // restart. Load again for each command: a client retrying keeps the entity from ever
    // going idle and passivating, so failing until then would refuse it for good.
    recover(st, *d.store);
  }
  if (!st.load_error.empty()) {
    return finish_current(
        self, d,
        domain_error{domain_errc::unavailable, "cannot load " + st.stream + ": " + st.load_error});
  }
  st.stale = false;
  if (is_read(*st.current.first)) {
    // Answered from the state, whatever it is: no decision, no append, no command record.
    if (!st.agg->exists())
      return finish_current(
          self, d, domain_error{domain_errc::not_found, st.kind + " " + st.id + " not found"});
    return finish_current(self, d, command_outcome{st.agg->view(), 0, st.version, false});
  }
  // Stamp time once per command so every event it decides shares one occurred_at.
  auto stamped = std::make_shared<domain::command>(*st.current.first);
  stamped->now = d.clock->now();
  st.current.first = stamped;
  run_current(self, d);
}

/// Runs queued commands until one leaves an append in flight or the queue is empty; a
/// released entity quits once nothing is left.
void process_next(entity_actor_t* self, const deps& d) {
  auto& st = self->state;
  st.draining = true;
  while (!st.busy && !st.queue.empty()) {
    st.current = std::move(st.queue.front());
    st.queue.pop_front();
    st.busy = true;
    start_current(self, d);
  }
  st.draining = false;
  if (!st.busy && st.released) self->quit();
}

void on_appended(entity_actor_t* self, const deps& d, const append_done& done) {
  auto& st = self->state;
  if (!done.result.ok()) {
    const auto& err = done.result.error();
    if (err.code == store::store_errc::wrong_expected_version && st.conflict_retries < 5) {
      // Another writer moved the stream (a stale owner or a second instance): catch up, decide
      // again.
      ++st.conflict_retries;
      // Deciding again on a state that could not catch up would only conflict again.
      if (!catch_up(st, *d.store))
        return finish_current(self, d,
                              domain_error{domain_errc::unavailable,
                                           "cannot load " + st.stream + ": " + st.load_error});
      return run_current(self, d);
    }
    const auto code = err.code == store::store_errc::invalid_argument ||
                              err.code == store::store_errc::payload_too_large
                          ? domain_errc::invalid
                          : domain_errc::unavailable;
    // Refused before writing (invalid) or not: an unavailable store may have committed the
    // append before the answer was lost, and this state has not applied it.
    if (code == domain_errc::unavailable) st.stale = true;
    return finish_current(self, d, domain_error{code, err.message});
  }
  const auto& r = *done.result;
  if (r.duplicate_command) {
    catch_up(st, *d.store);
    return finish_current(self, d,
                          command_outcome{st.agg->view(), r.last_position, st.version, true});
  }
  std::int64_t position = r.first_position;
  for (const auto& pe : done.events) {
    events::recorded_event e;
    e.position = position++;
    e.stream_id = st.stream;
    e.stream_version = ++st.version;
    e.event_id = pe.event_id;
    e.type = pe.type;
    e.schema_version = pe.schema_version;
    e.occurred_at = pe.occurred_at;
    e.principal = pe.principal;
    e.payload = pe.payload;
    st.agg->apply(e);
  }
  st.since_snapshot += static_cast<std::int64_t>(done.events.size());
  if (st.since_snapshot >= d.options.snapshot_every) {
    st.since_snapshot = 0;
    d.store->save_snapshot(
        {st.stream, st.version, 1, st.agg->snapshot().dump(), r.last_position, r.last_hash});
  }
  finish_current(self, d, command_outcome{st.agg->view(), r.last_position, st.version, false});
}

caf::behavior entity_actor(entity_actor_t* self, deps d, std::string kind, std::string id) {
  auto& st = self->state;
  st.kind = std::move(kind);
  st.id = std::move(id);
  st.stream = domain::stream_id(st.kind, st.id);
  st.last_active = d.clock->now();
  recover(st, *d.store);
  const events::timestamp_us idle_us =
      std::chrono::duration_cast<std::chrono::microseconds>(d.options.idle_timeout).count();
  // Idleness is checked on the registry's periodic tick rather than with caf::after: CAF 0.17
  // re-arms a receive timeout through its clock thread after every message (an allocation and
  // a cross-thread wake-up each: ~32 clock-thread context switches per ACME order).
  return {
      [=](exec_atom, command_ptr& cmd, completion_ptr& done) {
        self->state.last_active = d.clock->now();
        self->state.queue.emplace_back(std::move(cmd), std::move(done));
        process_next(self, d);
      },
      [=](appended_atom, append_done_ptr done) {
        self->state.last_active = d.clock->now();
        on_appended(self, d, *done);
      },
      [=](release_atom) {
        self->state.released = true;
        process_next(self, d);
      },
      [=](tick_atom) -> bool {
        auto& s = self->state;
        if (s.busy || !s.queue.empty() || s.released || s.passivating) return false;
        if (d.clock->now() - s.last_active < idle_us) return false;
        s.passivating = true;
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_entity(caf::event_based_actor* registry, const deps& d, const std::string& kind,
                        const std::string& id) {
  return registry->spawn<caf::linked>(entity_actor, d, kind, id);
}

}  // namespace certctl::actors
