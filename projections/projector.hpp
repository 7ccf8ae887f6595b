#pragma once
/// Runs projections against the event log (DESIGN §6).
///
/// Exactly once: each batch of events (up to options.batch_size) is applied to a projection's
/// tables and its checkpoint is advanced in ONE database transaction, so a crash at any point
/// leaves the read model and the checkpoint in agreement; a restart resumes after the
/// checkpoint and never re-applies an event.
///
/// Skip rule: when apply() rejects an event (apply_error::transient == false, e.g. a malformed
/// payload or a violated constraint), or the event cannot be upcast, the projector rolls back
/// only that event's writes (a savepoint), records it (stderr, a counter, the last error and a
/// row in projection_skipped_events) and moves on. We prefer a read model missing one bad
/// event over every read model stalling behind it; the skipped events stay in the log, so a
/// fixed projection picks them up with rebuild(). Transient failures (database unavailable,
/// lock timeouts) skip nothing: the batch rolls back and is retried with a capped backoff.
///
/// Schema versions: a projection whose schema_version differs from the one stored with its
/// checkpoint has its tables dropped and recreated and is replayed from position 1.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "events/upcaster.hpp"
#include "infra/store/event_store.hpp"
#include "projections/projection.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

struct projector_options {
  size_t batch_size = 500;  ///< most events per transaction
  /// The store's commit watch (event_store::watch_commits) wakes the projector for new
  /// events; this bounds how long it sleeps if a wake-up is ever missed.
  std::chrono::milliseconds idle_wait{1000};
  /// How often a standby re-reads the shared checkpoints (see set_standby()).
  std::chrono::milliseconds standby_poll{50};
  std::chrono::milliseconds max_retry_backoff{5000};
  /// Applied to each event before apply(), so projections only see current payload versions.
  const events::upcaster_registry* upcasters = nullptr;
  bool log_to_stderr = true;
};

struct projection_status {
  std::string name;
  int schema_version = 0;
  std::int64_t position = 0;  ///< last applied position
  std::uint64_t skipped = 0;  ///< events skipped since start (or since its last rebuild)
  std::string last_error;     ///< of the last skipped event
};

struct skip_record {
  std::string projection;
  std::int64_t position = 0;
  std::string event_type;
  std::string message;
};

class projector {
 public:
  /// `store` must outlive the projector.
  projector(store::event_store& store, std::shared_ptr<sql::database> db,
            projector_options options = {});
  ~projector();
  projector(const projector&) = delete;
  projector& operator=(const projector&) = delete;

  /// Registers a projection; only before the first start() or catch_up().
  db_result<done> add(std::shared_ptr<projection> p);

  /// Prepares the schemas (creating or rebuilding them) and follows the log on a thread.
  db_result<done> start();
  /// Only the schema preparation of start(): a cluster standby calls it first, so the read
  /// models exist on a fresh database before any node's projector runs.
  db_result<done> prepare();
  /// Stops following; idempotent. The destructor calls it.
  void stop();

  /// Applies everything committed to the log now, on the caller's thread; returns the
  /// projected position. Usable with or without start() (tools, tests).
  db_result<std::int64_t> catch_up();

  /// Standby (a cluster node that does not own the projector singleton, DESIGN §9): another
  /// node's projector writes the shared read models; this one applies nothing and only
  /// follows their checkpoints, so projected_position() and wait_for_position() stay true.
  /// Leaving standby prepares the schemas and resumes from the stored checkpoints. Callable
  /// before or after start().
  void set_standby(bool standby);
  bool standby() const { return standby_.load(); }

  /// Lowest checkpoint over all projections: every read model includes events up to here.
  std::int64_t projected_position() const;
  /// Blocks until projected_position() >= position (read-your-writes) or `max` elapses.
  bool wait_for_position(std::int64_t position, std::chrono::milliseconds max) const;
  /// Events in the log not yet in every read model (head - projected), for the metrics.
  db_result<std::int64_t> lag();

  /// Drops and recreates the tables of projection `name` (all when empty), resets its
  /// checkpoint to 0 and lets the projector replay it from position 1: in the background
  /// when started, else on the next catch_up().
  db_result<done> rebuild(const std::string& name = {});

  std::vector<projection_status> status() const;
  std::uint64_t skipped_events() const;
  std::optional<skip_record> last_skip() const;
  /// Batches rolled back for a transient failure (each is retried).
  std::uint64_t failed_batches() const;

 private:
  struct entry {
    std::shared_ptr<projection> p;
    std::string name;
    int version = 0;
    std::int64_t position = 0;  // guarded by state_mu_
    std::uint64_t skipped = 0;  // guarded by state_mu_
    std::string last_error;     // guarded by state_mu_
  };
  struct slot {
    events::recorded_event event;
    std::optional<std::string> upcast_error;
  };
  enum class batch_outcome { committed, needs_savepoints, checkpoint_moved };

  db_result<done> init_locked();
  db_result<done> prepare_schema(entry& e);
  db_result<done> reset_locked(entry& e);
  db_result<bool> step_locked();
  db_result<done> follow_checkpoints();
  db_result<bool> run_group(const std::vector<size_t>& members, std::int64_t from);
  db_result<batch_outcome> apply_batch(const std::vector<size_t>& members,
                                       const std::vector<slot>& slots, std::int64_t from,
                                       bool careful);
  void run();
  void wake();
  void log(const std::string& line) const;

  store::event_store& store_;
  std::shared_ptr<sql::database> db_;
  projector_options options_;
  std::vector<entry> entries_;

  std::mutex work_mu_;  // one batch, init or rebuild at a time
  bool initialized_ = false;
  /// A standby found the checkpoint table (work_mu_): it need not create it again.
  bool checkpoint_tables_seen_ = false;
  bool needs_init_ = false;

  mutable std::mutex state_mu_;
  mutable std::condition_variable progress_cv_;
  std::uint64_t skipped_total_ = 0;
  std::uint64_t failed_batches_ = 0;
  std::optional<skip_record> last_skip_;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::uint64_t wake_seq_ = 0;
  bool stopping_ = false;
  std::atomic<bool> standby_{false};

  std::mutex lifecycle_mu_;
  std::unique_ptr<store::commit_watch> commits_;
  std::thread thread_;
};

}  // namespace certctl::projections
