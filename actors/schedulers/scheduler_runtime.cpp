#include "actors/schedulers/scheduler_runtime.hpp"

#include <mutex>

#include "actors/runtime/messages.hpp"
#include "actors/schedulers/short_lived_expiry.hpp"

namespace certctl::schedulers {
namespace {

std::int64_t micros(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::microseconds>(s).count();
}

/// One loop with its period and the injected-clock time it last ran (0: never).
struct scheduled_loop {
  std::function<tick_report(events::timestamp_us)> tick;
  std::int64_t every_us = 0;
  events::timestamp_us last_run = 0;
  bool run_at_start = true;  ///< false: the first tick only starts the period
};

}  // namespace

struct scheduler_runtime::impl {
  impl(actors::entity_runtime& runtime, due_work_source& source, const infra::clock& c,
       actors::issuance_handoff handoff, scheduler_options o)
      : clock(c),
        options(std::move(o)),
        renewal(runtime, source, handoff, options.renewal),
        short_lived(runtime, source),
        jobs(runtime, source, handoff, options.jobs),
        timeouts(runtime, source, options.timeouts),
        agents(runtime, source, options.agents),
        orders(source, options.orders),
        ari(runtime, source, handoff, options.ari) {
    // Expiry first, so a renewal in the same tick sees the certificate's final status.
    loops = {
        {[this](events::timestamp_us now) { return short_lived.tick(now); },
         micros(options.short_lived_every)},
        {[this](events::timestamp_us now) { return renewal.tick(now); },
         micros(options.renewal_every)},
        {[this](events::timestamp_us now) { return timeouts.tick(now); },
         micros(options.timeouts_every)},
        {[this](events::timestamp_us now) { return jobs.tick(now); }, micros(options.jobs_every)},
        {[this](events::timestamp_us now) { return agents.tick(now); },
         micros(options.agents_every)},
        {[this](events::timestamp_us now) { return orders.tick(now); },
         micros(options.orders_every)},
        {[this](events::timestamp_us now) { return ari.tick(now); }, micros(options.ari_every)},
    };
    for (const auto& extra : options.extra_loops)
      if (extra.tick) loops.push_back({extra.tick, micros(extra.every), 0, extra.run_at_start});
  }

  std::vector<tick_report> tick(events::timestamp_us now) {
    std::lock_guard<std::mutex> lock(tick_mu);
    std::vector<tick_report> reports;
    for (auto& loop : loops) {
      if (loop.last_run != 0 && now - loop.last_run < loop.every_us) continue;
      const bool first = loop.last_run == 0;
      loop.last_run = now;
      if (first && !loop.run_at_start) continue;
      reports.push_back(loop.tick(now));
      const auto& r = reports.back();
      if (options.on_report && (!r.actions.empty() || !r.errors.empty())) options.on_report(r);
    }
    return reports;
  }

  /// The periodic actor: tick now, then again after tick_interval (real time).
  static caf::behavior driver_actor(caf::event_based_actor* self, impl* owner) {
    self->send(self, actors::tick_atom_v);
    return {
        [=](actors::tick_atom) {
          owner->tick(owner->clock.now());
          self->delayed_send(self, owner->options.tick_interval, actors::tick_atom_v);
        },
    };
  }

  const infra::clock& clock;
  scheduler_options options;
  renewal_check renewal;
  short_lived_expiry short_lived;
  job_processor jobs;
  job_timeout timeouts;
  agent_health agents;
  order_poll orders;
  ari_check ari;
  std::vector<scheduled_loop> loops;
  std::mutex tick_mu;  ///< serialises ticks of the actor and of callers of tick()

  // The actor system is created on first start(): a scheduler that never starts (tests,
  // tools) costs no threads.
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::actor driver;
  mutable std::mutex life_mu;  ///< guards driver and the system's creation
};

scheduler_runtime::scheduler_runtime(actors::entity_runtime& runtime, due_work_source& source,
                                     const infra::clock& clock, actors::issuance_handoff handoff,
                                     scheduler_options options)
    : impl_(
          std::make_unique<impl>(runtime, source, clock, std::move(handoff), std::move(options))) {}

scheduler_runtime::~scheduler_runtime() {
  stop();
}

void scheduler_runtime::start() {
  std::lock_guard<std::mutex> lock(impl_->life_mu);
  if (impl_->driver) return;
  if (!impl_->system) {
    impl_->cfg = std::make_unique<caf::actor_system_config>();
    impl_->cfg->set("scheduler.max-threads", 1);
    impl_->cfg->set("logger.verbosity", caf::atom("quiet"));
    impl_->system = std::make_unique<caf::actor_system>(*impl_->cfg);
  }
  // Detached: a tick blocks on entity commands and must not hold a shared scheduler thread.
  impl_->driver = impl_->system->spawn<caf::detached>(impl::driver_actor, impl_.get());
}

void scheduler_runtime::stop() {
  std::lock_guard<std::mutex> lock(impl_->life_mu);
  if (!impl_->driver) return;
  caf::scoped_actor self{*impl_->system};
  self->send_exit(impl_->driver, caf::exit_reason::user_shutdown);
  self->wait_for(impl_->driver);
  impl_->driver = nullptr;
}

bool scheduler_runtime::running() const {
  std::lock_guard<std::mutex> lock(impl_->life_mu);
  return static_cast<bool>(impl_->driver);
}

std::vector<tick_report> scheduler_runtime::tick(events::timestamp_us now) {
  return impl_->tick(now);
}

}  // namespace certctl::schedulers
