#include "actors/runtime/entity_runtime.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/rules.hpp"
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

// ---------------------------------------------------------------------------------------------
// Entity actor

struct entity_state {
  std::string kind, id;
  std::unique_ptr<domain::aggregate> agg;
  std::string stream;
  std::int64_t version = 0;
  std::int64_t since_snapshot = 0;
  std::string load_error;
  bool busy = false;         ///< an append is in flight
  bool released = false;     ///< the registry forgot us: quit once the queue is empty
  bool passivating = false;  ///< asked the registry to let us go
  std::chrono::steady_clock::time_point last_active = std::chrono::steady_clock::now();
  int conflict_retries = 0;
  std::deque<std::pair<command_ptr, completion_ptr>> queue;
  std::pair<command_ptr, completion_ptr> current;
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
  auto done = std::move(st.current.second);
  st.current = {};
  st.busy = false;
  st.conflict_retries = 0;
  // On this actor's thread, in command order: the callback must not block (see submit).
  done->deliver(std::move(r));
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
  // Idleness is checked on the registry's periodic tick rather than with caf::after: CAF 0.17
  // re-arms a receive timeout through its clock thread after every message (an allocation and
  // a cross-thread wake-up each: ~32 clock-thread context switches per ACME order).
  return {
      [=](exec_atom, command_ptr& cmd, completion_ptr& done) {
        self->state.last_active = std::chrono::steady_clock::now();
        self->state.queue.emplace_back(std::move(cmd), std::move(done));
        process_next(self, d);
      },
      [=](appended_atom, append_done_ptr done) {
        self->state.last_active = std::chrono::steady_clock::now();
        on_appended(self, d, *done);
      },
      [=](release_atom) {
        self->state.released = true;
        process_next(self, d);
      },
      [=](tick_atom) {
        auto& s = self->state;
        if (s.busy || !s.queue.empty() || s.released || s.passivating) return;
        if (std::chrono::steady_clock::now() - s.last_active < d.options.idle_timeout) return;
        s.passivating = true;
        self->send(registry, passivate_atom_v, s.stream, caf::actor_cast<caf::actor>(self));
      },
  };
}

// ---------------------------------------------------------------------------------------------
// Registry

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

caf::behavior registry_actor(caf::stateful_actor<registry_state>* self, deps d) {
  // Entities passivate between idle_timeout and 1.5 x idle_timeout after their last message.
  const auto sweep =
      std::max<caf::timespan>(std::chrono::duration_cast<caf::timespan>(d.options.idle_timeout) / 2,
                              std::chrono::milliseconds(1));
  self->delayed_send(self, sweep, tick_atom_v);
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
        if (!slot) {
          // Linked: when the runtime shuts the registry down, every entity goes with it.
          slot = self->spawn<caf::linked>(entity_actor, d, kind, cmd->entity_id,
                                          caf::actor_cast<caf::actor>(self));
        }
        // A plain send, like the release below: CAF keeps the order of messages from one sender
        // to one receiver, so a command forwarded before a release is handled before it.
        self->send(slot, exec_atom_v, std::move(cmd), std::move(done));
      },
      [=](passivate_atom, const std::string& key, const caf::actor& who) {
        auto it = self->state.entities.find(key);
        if (it != self->state.entities.end() && it->second == who) self->state.entities.erase(it);
        // Commands the registry forwarded before this point are already in the entity's
        // mailbox, ahead of the release; the entity drains them, then quits.
        self->send(who, release_atom_v);
      },
      [=](tick_atom) {
        for (const auto& [key, entity] : self->state.entities) self->send(entity, tick_atom_v);
        self->delayed_send(self, sweep, tick_atom_v);
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

// ---------------------------------------------------------------------------------------------
// Timeout of submitted commands

std::string did_not_answer(const completion& c, std::chrono::milliseconds timeout) {
  return c.kind() + " " + c.command().entity_id + " did not answer within " +
         std::to_string(timeout.count()) + " ms";
}

/// Answers `unavailable` for the submitted commands nobody answered within the command
/// timeout, on its own thread. Every command gets the same timeout, so deadlines come in
/// submission order and a FIFO replaces a timer heap: one lock and one push per command, and
/// one wake-up per `slack` at most. It holds weak references: a finished command's callback
/// (and what it captured) is freed when the command finishes, not when its deadline passes.
class deadline_watch {
 public:
  explicit deadline_watch(std::chrono::milliseconds timeout)
      : timeout_(timeout),
        slack_(std::clamp<std::chrono::milliseconds>(timeout / 10, std::chrono::milliseconds(1),
                                                     std::chrono::milliseconds(100))),
        thread_([this] { run(); }) {}

  /// Stops the thread; commands still pending are not answered by it any more.
  ~deadline_watch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  deadline_watch(const deadline_watch&) = delete;
  deadline_watch& operator=(const deadline_watch&) = delete;

  void watch(const completion_ptr& c) {
    bool was_empty = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Stamped under the lock, so deadlines stay ordered across submitting threads.
      was_empty = pending_.empty();
      pending_.push_back({clock::now() + timeout_, c});
    }
    if (was_empty) cv_.notify_one();  // otherwise the thread already waits for an earlier one
  }

 private:
  using clock = std::chrono::steady_clock;
  struct entry {
    clock::time_point deadline;
    std::weak_ptr<const completion> done;
  };

  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    std::vector<std::weak_ptr<const completion>> expired;
    while (!stop_) {
      if (pending_.empty()) {
        cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
        continue;
      }
      // Late by up to `slack`, so that a steady stream of commands costs a few wake-ups a
      // second rather than one per command.
      const auto wake = pending_.front().deadline + slack_;
      if (cv_.wait_until(lock, wake, [&] { return stop_; })) break;
      const auto now = clock::now();
      while (!pending_.empty() && pending_.front().deadline <= now) {
        expired.push_back(std::move(pending_.front().done));
        pending_.pop_front();
      }
      // Outside the lock: a callback may submit again.
      lock.unlock();
      for (auto& w : expired)
        if (auto c = w.lock())
          c->deliver(domain_error{domain_errc::unavailable, did_not_answer(*c, timeout_)});
      expired.clear();
      lock.lock();
    }
  }

  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds slack_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<entry> pending_;
  bool stop_ = false;
  std::thread thread_;  ///< last: starts after the members it uses
};

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
      : watch(o.command_timeout), cfg(make_config(o)), system(cfg), d{&store, &clock, o} {
    registry = system.spawn(registry_actor, d);
  }

  ~impl() { caf::anon_send_exit(registry, caf::exit_reason::user_shutdown); }

  /// Hands `cmd` to the registry; `done` is delivered by the registry (invalid kind or id) or
  /// by the entity.
  void send(const std::string& kind, command_ptr cmd, const completion_ptr& done) {
    caf::anon_send(registry, submit_atom_v, kind, std::move(cmd), done);
  }

  deadline_watch watch;  ///< first: outlives the actor system, whose teardown may submit
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
  auto holder = std::make_shared<const completion>(std::move(done), kind, c);
  impl_->watch.watch(holder);
  impl_->send(kind, std::move(c), holder);
}

command_result entity_runtime::execute(const std::string& kind, domain::command cmd) {
  if (impl_->runs_elsewhere(kind, cmd)) {
    auto answer = std::make_shared<std::promise<command_result>>();
    auto future = answer->get_future();
    impl_->router->forward(kind, std::move(cmd),
                           [answer](command_result r) { answer->set_value(std::move(r)); });
    return future.get();  // the router answers every command, at the latest on its timeout
  }
  // Shared with the callback: an answer arriving after the deadline lands here harmlessly.
  struct waiter {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<command_result> out;
  };
  auto w = std::make_shared<waiter>();
  auto c = std::make_shared<const domain::command>(std::move(cmd));
  auto holder = std::make_shared<const completion>(
      [w](command_result r) {
        {
          std::lock_guard<std::mutex> lock(w->mu);
          w->out = std::move(r);
        }
        w->cv.notify_one();
      },
      kind, c);
  impl_->send(kind, std::move(c), holder);
  const auto timeout = impl_->d.options.command_timeout;
  std::unique_lock<std::mutex> lock(w->mu);
  if (!w->cv.wait_for(lock, timeout, [&] { return w->out.has_value(); }))
    return domain_error{domain_errc::unavailable, did_not_answer(*holder, timeout)};
  return std::move(*w->out);
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
