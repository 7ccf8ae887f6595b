#include "actors/runtime/entity_runtime.hpp"

#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>

#include "actors/runtime/deadline_watch.hpp"
#include "actors/runtime/entity_registry.hpp"
#include "actors/runtime/workflow_table.hpp"
#include "domain/rules.hpp"

namespace certctl::actors {
namespace {

using domain::domain_errc;
using domain::domain_error;

domain::command read_command(const std::string& id) {
  domain::command cmd;
  cmd.name = std::string(read_command_name);
  cmd.entity_id = id;
  return cmd;
}

}  // namespace

struct entity_runtime::impl {
  static caf::actor_system_config make_config(const runtime_options& o) {
    caf::actor_system_config cfg;
    if (o.worker_threads > 0) cfg.set("scheduler.max-threads", o.worker_threads);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    // An idle worker spins briefly (the aggressive phase), then sleeps on its condition
    // variable until a message arrives (the relaxed phase). CAF's moderate phase in between
    // (500 polls with a 50 us nanosleep each) woke every idle worker 20,000 times a second:
    // in the issuance benchmark that was ~8 % of the server's samples and half its context
    // switches (docs/benchmarks.md, 2026-12-04). A sleeping worker is woken by the enqueue.
    cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
    return cfg;
  }

  impl(store::event_store& store, const infra::clock& clock, runtime_options o)
      : watch(o.command_timeout), cfg(make_config(o)), system(cfg), d{&store, &clock, o} {
    registry = spawn_registry(system, d);
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
  /// Last: its threads (which send commands) are joined before the actor system goes.
  workflow_table workflows;

  /// The router's verdict; invalid kinds and ids stay local so they fail the same way
  /// everywhere, without a round trip.
  bool runs_elsewhere(const std::string& kind, const domain::command& cmd) const {
    return router != nullptr && domain::is_valid_id(cmd.entity_id) &&
           (kind == workflow_kind || domain::make_aggregate(kind, "probe") != nullptr) &&
           !router->is_local(domain::stream_id(kind, cmd.entity_id));
  }
};

entity_runtime::entity_runtime(store::event_store& store, const infra::clock& clock,
                               runtime_options options)
    : impl_(std::make_unique<impl>(store, clock, options)) {}

entity_runtime::~entity_runtime() = default;

void entity_runtime::submit(const std::string& kind, domain::command cmd, command_callback done) {
  if (kind == workflow_kind) impl_->workflows.count_start(cmd.name);
  if (impl_->runs_elsewhere(kind, cmd)) return impl_->router->forward(kind, std::move(cmd), done);
  submit_local(kind, std::move(cmd), std::move(done));
}

void entity_runtime::submit_local(const std::string& kind, domain::command cmd,
                                  command_callback done) {
  if (kind == workflow_kind) return impl_->workflows.run_async(std::move(cmd), std::move(done));
  auto c = std::make_shared<const domain::command>(std::move(cmd));
  auto holder = std::make_shared<const completion>(std::move(done), kind, c);
  impl_->watch.watch(holder);
  impl_->send(kind, std::move(c), holder);
}

command_result entity_runtime::execute(const std::string& kind, domain::command cmd) {
  if (kind == workflow_kind) impl_->workflows.count_start(cmd.name);
  if (impl_->runs_elsewhere(kind, cmd)) {
    auto answer = std::make_shared<std::promise<command_result>>();
    auto future = answer->get_future();
    impl_->router->forward(kind, std::move(cmd),
                           [answer](command_result r) { answer->set_value(std::move(r)); });
    return future.get();  // the router answers every command, at the latest on its timeout
  }
  if (kind == workflow_kind) return impl_->workflows.run(cmd);
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

command_result entity_runtime::read(const std::string& kind, const std::string& id) {
  return execute(kind, read_command(id));
}

void entity_runtime::read_async(const std::string& kind, const std::string& id,
                                command_callback done) {
  submit(kind, read_command(id), std::move(done));
}

void entity_runtime::add_workflow(const std::string& name, workflow_fn fn) {
  impl_->workflows.add(name, std::move(fn));
}

std::uint64_t entity_runtime::workflows_started(const std::string& name) const {
  return impl_->workflows.started(name);
}

std::string entity_runtime::mint_local_id(const std::string& kind,
                                          const std::function<std::string()>& candidate) const {
  // With N nodes a random id is local with probability about 1/N: 32 tries miss at 8 nodes
  // once in ~70 creates (which are then forwarded once, as before), at 3 nodes never in practice.
  constexpr int max_tries = 32;
  std::string id = candidate();
  for (int i = 1; impl_->router != nullptr && i < max_tries; ++i) {
    if (impl_->router->is_local(domain::stream_id(kind, id))) break;
    id = candidate();
  }
  return id;
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

bool entity_runtime::sweep_idle() {
  caf::scoped_actor self{impl_->system};
  bool swept = false;
  self->request(impl_->registry, impl_->d.options.command_timeout, sweep_atom_v)
      .receive([&](size_t) { swept = true; }, [&](caf::error&) {});
  return swept;
}

}  // namespace certctl::actors
