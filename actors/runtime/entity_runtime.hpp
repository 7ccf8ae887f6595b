#pragma once
/// Hosts every entity as a CAF actor (DESIGN §5) behind a CAF-free facade, so gateways and
/// tools include this header without paying for CAF.
///
/// A registry actor (entity_registry.cpp) spawns an entity actor (entity_actor.cpp) on demand,
/// recovering it from its latest snapshot plus later events, forwards commands to it, and lets
/// it passivate after an idle period measured on the injected clock. An entity handles one
/// command at a time: decide -> append (asynchronously, through the store's group commit) ->
/// apply -> reply. While an append is in flight further commands wait in the entity's queue,
/// so the actor thread never blocks on the database. The deadline watch (deadline_watch.cpp)
/// answers submitted commands nobody answered in time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "domain/aggregate.hpp"
#include "infra/clock.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::actors {

struct runtime_options {
  /// An entity without a message for this long (by the injected clock) is let go; the
  /// registry looks every idle_timeout / 2 of real time, or when `sweep_idle` asks.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  std::int64_t snapshot_every = 100;  ///< events between snapshots of one entity
  std::chrono::milliseconds command_timeout{std::chrono::seconds(30)};
  size_t worker_threads = 0;  ///< CAF scheduler threads; 0 = number of cores
};

struct command_outcome {
  events::json_object view;         ///< the entity after the command
  std::int64_t position = 0;        ///< last position this command committed (0: none)
  std::int64_t stream_version = 0;  ///< entity version after the command
  bool duplicate = false;           ///< the command id was seen before; nothing new written
};

using command_result = result<command_outcome, domain::domain_error>;
using command_callback = std::function<void(command_result)>;

/// The reserved command name of a read (`entity_runtime::read`). The entity answers it from
/// its state, whatever that state is, without deciding, appending or recording anything. It
/// travels like any command, so in cluster mode a read for an entity owned elsewhere goes to
/// the owner (through the router and the command codec, unchanged), and it is answered after
/// the commands queued before it. No aggregate uses the "runtime." prefix.
inline constexpr std::string_view read_command_name = "runtime.read";

/// The command kind of a workflow (docs/cluster.md "Affinity"): a named piece of work that
/// sends several commands to the entities of one workflow (a certificate, its job, ...). It
/// travels like one command: cmd.name is the workflow's name, cmd.entity_id is
/// workflow_entity_id(root stream), so a router delivers it to the owner of the root entity,
/// where the whole workflow then runs with local commands.
inline constexpr std::string_view workflow_kind = "workflow";

/// The entity id a workflow command carries to be placed with `root_stream`.
std::string workflow_entity_id(const std::string& root_stream);

/// Runs a workflow where it was delivered; may block (it runs on a request thread or on the
/// runtime's workflow threads, never on an actor thread).
using workflow_fn = std::function<command_result(const domain::command& cmd)>;

/// Decides where a command runs. Absent on a single node; in cluster mode (DESIGN §9) the
/// cluster layer installs one so that every caller of the runtime (gateways, workflows,
/// schedulers) reaches the entity's owner without knowing about the cluster.
class command_router {
 public:
  virtual ~command_router() = default;
  /// True when this node executes commands for stream `stream_id` itself.
  virtual bool is_local(const std::string& stream_id) const = 0;
  /// Delivers the command to its owner; `done` receives the owner's answer (on any thread).
  virtual void forward(const std::string& kind, domain::command cmd, command_callback done) = 0;
};

class entity_runtime {
 public:
  entity_runtime(store::event_store& store, const infra::clock& clock,
                 runtime_options options = {});
  ~entity_runtime();
  entity_runtime(const entity_runtime&) = delete;
  entity_runtime& operator=(const entity_runtime&) = delete;

  /// Sends `cmd` to entity `kind`/`cmd.entity_id`, through the router when one is installed
  /// and the entity is owned elsewhere. `done` is called exactly once: by the entity when the
  /// command finishes (or by the registry for an unknown kind or an invalid id), or with
  /// `unavailable` once `command_timeout` passed without an answer, whichever comes first; a
  /// later answer is dropped. Locally it runs on the entity's actor thread, in command order
  /// per entity, so it must be quick and must not block: in particular it must not call
  /// `execute` (for the same entity that waits out the timeout). Hand longer work to another
  /// thread, or `submit` the next command.
  void submit(const std::string& kind, domain::command cmd, command_callback done);

  /// Executes on this node whoever owns the entity: for commands a router delivered here.
  /// Expected versions fence the case where ownership moved meanwhile. `done` as for `submit`.
  void submit_local(const std::string& kind, domain::command cmd, command_callback done);

  /// Blocking form for request threads (never call it on an actor thread, e.g. from a
  /// `submit` callback); returns `unavailable` after `command_timeout` without an answer.
  command_result execute(const std::string& kind, domain::command cmd);

  /// The entity's current view and stream version (position 0, never a duplicate), or
  /// `not_found` when it was never created; in any state (an Archived certificate too), without
  /// appending. Blocking like `execute`, with the command timeout, wherever the owner is.
  command_result read(const std::string& kind, const std::string& id);
  /// Asynchronous `read`; `done` as for `submit` (once, possibly on an actor thread).
  void read_async(const std::string& kind, const std::string& id, command_callback done);

  /// Registers workflow `name` (before the first command for it; every node registers the
  /// same workflows). A workflow command with an unregistered name answers `unavailable`.
  void add_workflow(const std::string& name, workflow_fn fn);
  /// Workflow commands for `name` started on this node (wherever they ran).
  std::uint64_t workflows_started(const std::string& name) const;

  /// Entity actors currently resident (not passivated).
  size_t resident_entities() const;

  /// Lets every entity go that has been idle for `idle_timeout` by the injected clock, now
  /// rather than on the next periodic look, and returns once all resident entities answered
  /// (false: the registry did not answer within the command timeout). Tests drive passivation
  /// with a manual clock through this instead of sleeping.
  bool sweep_idle();

  /// An id for a new entity of `kind` that this node owns, when one of a few candidates is:
  /// ids the server makes are placed where the request arrived, so creating the entity (and
  /// the workflow of its affine entities, docs/cluster.md "Affinity") needs no forward.
  /// `candidate` returns a fresh random id per call. On a single node (no router) the first
  /// candidate; when no candidate is owned here (the node owns no partition yet) the last,
  /// which then runs on its owner like any id.
  std::string mint_local_id(const std::string& kind,
                            const std::function<std::string()>& candidate) const;

  /// Installs the cluster's router; before the first command, and `router` must outlive the
  /// runtime's use. nullptr: everything runs locally.
  void set_router(command_router* router);

  /// Lets the resident entities whose stream matches go (after their queued commands), so
  /// that a partition this node no longer owns keeps no state that could go stale.
  void release_where(std::function<bool(const std::string& stream_id)> predicate);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::actors
