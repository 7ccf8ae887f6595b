#include "actors/runtime/entity_runtime.hpp"

#include <deque>
#include <future>
#include <unordered_map>

#include "actors/domain/rules.hpp"
#include "actors/runtime/messages.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::actors {
namespace {

using domain::domain_errc;
using domain::domain_error;

struct deps {
  store::event_store* store;
  const infra::clock* clock;
  runtime_options options;
};

reply_ptr make_reply(command_result r) {
  return std::make_shared<const command_result>(std::move(r));
}

reply_ptr error_reply(domain_errc code, std::string message) {
  return make_reply(domain_error{code, std::move(message)});
}

// ---------------------------------------------------------------------------------------------
// Entity actor

struct entity_state {
  std::string kind, id;
  std::unique_ptr<domain::aggregate> agg;
  std::string stream;
  std::int64_t version = 0;
  std::int64_t since_snapshot = 0;
  std::string load_error;
  bool busy = false;      ///< an append is in flight
  bool released = false;  ///< the registry forgot us: quit once the queue is empty
  int conflict_retries = 0;
  std::deque<std::pair<command_ptr, caf::response_promise>> queue;
  std::pair<command_ptr, caf::response_promise> current;
};

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

/// Builds the aggregate from scratch: the snapshot, if any, then the events after it. A store
/// error leaves `load_error` set.
void recover(entity_state& st, store::event_store& store) {
  st.agg = domain::make_aggregate(st.kind, st.id);
  st.version = 0;
  st.load_error.clear();
  auto snap = store.load_snapshot(st.stream);
  if (snap && snap->has_value()) {
    if (auto parsed = events::json_object::parse((*snap)->state)) {
      st.agg->restore(*parsed);
      st.version = (*snap)->stream_version;
    }
  }
  catch_up(st, store);
}

void process_next(caf::stateful_actor<entity_state>* self, const deps& d);

void finish_current(caf::stateful_actor<entity_state>* self, const deps& d, command_result r) {
  auto& st = self->state;
  st.current.second.deliver(make_reply(std::move(r)));
  st.current = {};
  st.busy = false;
  st.conflict_retries = 0;
  process_next(self, d);
}

void run_current(caf::stateful_actor<entity_state>* self, const deps& d) {
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
  for (auto& pe : req.events) pe.event_id = crypto::uuid_v4();
  auto proposed = req.events;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  d.store->append_async(
      std::move(req), [me, proposed](store::store_result<store::append_result> r) {
        caf::anon_send(me, appended_atom_v,
                       std::make_shared<const append_done>(append_done{std::move(r), proposed}));
      });
}

void process_next(caf::stateful_actor<entity_state>* self, const deps& d) {
  auto& st = self->state;
  if (st.busy) return;
  if (st.queue.empty()) {
    if (st.released) self->quit();
    return;
  }
  st.current = std::move(st.queue.front());
  st.queue.pop_front();
  st.busy = true;
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
  // Stamp time once per command so every event it decides shares one occurred_at.
  auto stamped = std::make_shared<domain::command>(*st.current.first);
  stamped->now = d.clock->now();
  st.current.first = stamped;
  run_current(self, d);
}

void on_appended(caf::stateful_actor<entity_state>* self, const deps& d, const append_done& done) {
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
    d.store->save_snapshot({st.stream, st.version, 1, st.agg->snapshot().dump()});
  }
  finish_current(self, d, command_outcome{st.agg->view(), r.last_position, st.version, false});
}

caf::behavior entity_actor(caf::stateful_actor<entity_state>* self, deps d, std::string kind,
                           std::string id, caf::actor registry) {
  auto& st = self->state;
  st.kind = kind;
  st.id = id;
  st.stream = domain::stream_id(kind, id);
  recover(st, *d.store);
  return {
      [=](exec_atom, command_ptr cmd) -> caf::result<reply_ptr> {
        auto rp = self->make_response_promise();
        self->state.queue.emplace_back(std::move(cmd), rp);
        process_next(self, d);
        return rp;
      },
      [=](appended_atom, append_done_ptr done) { on_appended(self, d, *done); },
      [=](release_atom) {
        self->state.released = true;
        process_next(self, d);
      },
      caf::after(d.options.idle_timeout) >>
          [=] {
            if (!self->state.busy && self->state.queue.empty())
              self->send(registry, passivate_atom_v, self->state.stream,
                         caf::actor_cast<caf::actor>(self));
          },
  };
}

// ---------------------------------------------------------------------------------------------
// Registry

struct registry_state {
  std::unordered_map<std::string, caf::actor> entities;
};

caf::behavior registry_actor(caf::stateful_actor<registry_state>* self, deps d) {
  return {
      [=](submit_atom, const std::string& kind, command_ptr cmd) -> caf::result<reply_ptr> {
        if (!domain::make_aggregate(kind, "probe"))
          return error_reply(domain_errc::invalid, "unknown entity kind '" + kind + "'");
        if (!domain::is_valid_id(cmd->entity_id))
          return error_reply(domain_errc::invalid,
                             "invalid " + kind + " id '" + cmd->entity_id + "'");
        const auto key = domain::stream_id(kind, cmd->entity_id);
        auto& slot = self->state.entities[key];
        if (!slot) {
          // Linked: when the runtime shuts the registry down, every entity goes with it.
          slot = self->spawn<caf::linked>(entity_actor, d, kind, cmd->entity_id,
                                          caf::actor_cast<caf::actor>(self));
        }
        self->delegate(slot, exec_atom_v, std::move(cmd));
        return caf::delegated<reply_ptr>{};
      },
      [=](passivate_atom, const std::string& key, const caf::actor& who) {
        auto it = self->state.entities.find(key);
        if (it != self->state.entities.end() && it->second == who) self->state.entities.erase(it);
        // Commands the registry forwarded before this point are already in the entity's
        // mailbox, ahead of the release; the entity drains them, then quits.
        self->send(who, release_atom_v);
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

// ---------------------------------------------------------------------------------------------
// Facade

struct entity_runtime::impl {
  static caf::actor_system_config make_config(const runtime_options& o) {
    caf::actor_system_config cfg;
    if (o.worker_threads > 0) cfg.set("scheduler.max-threads", o.worker_threads);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    return cfg;
  }

  impl(store::event_store& store, const infra::clock& clock, runtime_options o)
      : cfg(make_config(o)), system(cfg), d{&store, &clock, o} {
    registry = system.spawn(registry_actor, d);
  }

  ~impl() { caf::anon_send_exit(registry, caf::exit_reason::user_shutdown); }

  caf::actor_system_config cfg;
  caf::actor_system system;
  deps d;
  caf::actor registry;
  command_router* router = nullptr;

  /// The router's verdict; invalid kinds and ids stay local so they fail the same way
  /// everywhere, without a round trip.
  bool runs_elsewhere(const std::string& kind, const domain::command& cmd) const {
    return router != nullptr && domain::is_valid_id(cmd.entity_id) &&
           domain::make_aggregate(kind, "probe") != nullptr &&
           !router->is_local(domain::stream_id(kind, cmd.entity_id));
  }
};

entity_runtime::entity_runtime(store::event_store& store, const infra::clock& clock,
                               runtime_options options)
    : impl_(std::make_unique<impl>(store, clock, options)) {}

entity_runtime::~entity_runtime() = default;

void entity_runtime::submit(const std::string& kind, domain::command cmd, command_callback done) {
  if (impl_->runs_elsewhere(kind, cmd)) return impl_->router->forward(kind, std::move(cmd), done);
  submit_local(kind, std::move(cmd), std::move(done));
}

void entity_runtime::submit_local(const std::string& kind, domain::command cmd,
                                  command_callback done) {
  auto c = std::make_shared<const domain::command>(std::move(cmd));
  auto registry = impl_->registry;
  auto timeout = impl_->d.options.command_timeout;
  impl_->system.spawn([=](caf::event_based_actor* self) {
    self->request(registry, timeout, submit_atom_v, kind, c)
        .then([=](reply_ptr r) { done(*r); },
              [=](caf::error& err) {
                done(domain_error{
                    domain_errc::unavailable,
                    kind + " " + c->entity_id + " did not answer: " + self->system().render(err)});
              });
  });
}

command_result entity_runtime::execute(const std::string& kind, domain::command cmd) {
  if (impl_->runs_elsewhere(kind, cmd)) {
    auto answer = std::make_shared<std::promise<command_result>>();
    auto future = answer->get_future();
    impl_->router->forward(kind, std::move(cmd),
                           [answer](command_result r) { answer->set_value(std::move(r)); });
    return future.get();  // the router answers every command, at the latest on its timeout
  }
  auto c = std::make_shared<const domain::command>(std::move(cmd));
  caf::scoped_actor self{impl_->system};
  std::optional<command_result> out;
  self->request(impl_->registry, impl_->d.options.command_timeout, submit_atom_v, kind, c)
      .receive([&](reply_ptr r) { out = *r; },
               [&](caf::error& err) {
                 out = domain_error{
                     domain_errc::unavailable,
                     kind + " " + c->entity_id + " did not answer: " + impl_->system.render(err)};
               });
  return std::move(*out);
}

void entity_runtime::set_router(command_router* router) {
  impl_->router = router;
}

void entity_runtime::release_where(std::function<bool(const std::string&)> predicate) {
  caf::anon_send(
      impl_->registry, evict_atom_v,
      std::make_shared<const std::function<bool(const std::string&)>>(std::move(predicate)));
}

size_t entity_runtime::resident_entities() const {
  caf::scoped_actor self{impl_->system};
  size_t n = 0;
  self->request(impl_->registry, std::chrono::seconds(10), count_atom_v)
      .receive([&](size_t count) { n = count; }, [&](caf::error&) {});
  return n;
}

}  // namespace certctl::actors
