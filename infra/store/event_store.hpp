#pragma once
/// The append-only event log (DESIGN §4). One interface, three backends (memory, sqlite,
/// postgres) that pass one conformance suite.
///
/// Guarantees every backend gives:
///  - positions are global, start at 1, have no gaps, and commit order equals position order,
///    so a reader following read_all() never skips an event;
///  - an append is atomic: all of its events land, or none;
///  - a stale expected version fails with wrong_expected_version and writes nothing;
///  - every event carries prev_hash/hash forming one SHA-256 chain in position order;
///  - a command id, once recorded with its outcome, answers every retry of that command.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "events/result.hpp"

namespace certctl::store {

enum class store_errc {
  wrong_expected_version,  ///< optimistic concurrency: the stream moved on
  invalid_argument,        ///< malformed request (bad JSON payload, empty stream id, ...)
  payload_too_large,       ///< above options.max_payload_bytes
  corrupt,                 ///< a stored row cannot be decoded
  unavailable,             ///< the database cannot be reached or failed the transaction
  bad_url,                 ///< malformed store URL
  closed,                  ///< the store is shutting down
};
const char* to_string(store_errc c);
std::ostream& operator<<(std::ostream& os, store_errc c);

struct store_error {
  store_errc code;
  std::string message;
};

template <class T>
using store_result = result<T, store_error>;

/// What the appender believes about the stream it appends to.
struct expected_version {
  enum class kind { any, no_stream, exact };
  kind k = kind::any;
  std::int64_t version = 0;

  static expected_version any() { return {kind::any, 0}; }
  static expected_version no_stream() { return {kind::no_stream, 0}; }
  static expected_version exact(std::int64_t v) { return {kind::exact, v}; }
};

struct append_request {
  std::string stream_id;
  expected_version expected;
  std::vector<events::proposed_event> events;
  /// Optional idempotency key. When set, the outcome below is stored in the same transaction;
  /// a later append with the same command id writes nothing and returns the stored outcome.
  std::string command_id;
  std::string command_outcome;  ///< caller-defined JSON text, e.g. the reply to the client
};

struct append_result {
  std::int64_t stream_version = 0;  ///< version of the stream after the append
  std::int64_t first_position = 0;  ///< position of the first event written (0 if none)
  std::int64_t last_position = 0;   ///< position of the last event written (0 if none)
  std::string last_hash;            ///< chain hash of that event ("" if none written)
  bool duplicate_command = false;   ///< command id seen before; nothing was written now
  std::string command_outcome;      ///< stored outcome when duplicate_command
};

struct snapshot {
  std::string stream_id;
  std::int64_t stream_version = 0;  ///< the state folds events 1..stream_version
  int schema_version = 1;           ///< of the state encoding, so old snapshots can be ignored
  std::string state;                ///< opaque to the store
  /// The chain anchor: global position and hash of the stream's event at stream_version.
  /// Whoever loads the snapshot checks them against the log (a snapshot whose anchor the log
  /// does not confirm was written over a different history and is ignored). 0/"" = unanchored
  /// (written before snapshots carried one).
  std::int64_t position = 0;
  std::string hash;
};

struct command_record {
  std::string command_id;
  std::string outcome;
  std::int64_t position = 0;  ///< last position the command wrote (0 if none)
};

struct store_options {
  size_t max_payload_bytes = 4 * 1024 * 1024;
  /// Group commit: most appends one transaction holds, and how long the writer lingers for
  /// more once it has at least one (0 = take what is queued, never wait).
  size_t max_batch = 512;
  std::int64_t max_batch_wait_us = 0;
  bool group_commit = true;  ///< false: one transaction per append (the naive baseline)
  /// Subscribers poll this often for events written by other processes or nodes; events
  /// committed through this store object wake them at once.
  std::int64_t poll_interval_ms = 200;
  size_t read_pool_size = 4;
  /// Optional observers for the metrics (infra/metrics). They run on the writer thread inside
  /// the commit path, so they must be cheap and must never call back into the store.
  /// After each committed transaction: how many appends it held and how long it took.
  std::function<void(size_t batch_size, std::chrono::microseconds commit_duration)>
      on_batch_committed;
  /// As each queued append is answered (committed or failed), just before its callback runs:
  /// the time since it was queued.
  std::function<void(std::chrono::microseconds latency)> on_append_completed;
};

/// Delivery callback of a subscription; runs on the subscription's own thread.
using event_handler = std::function<void(const events::recorded_event&)>;

/// A live subscription; destroying it (or stop()) ends delivery and joins its thread.
class subscription {
 public:
  virtual ~subscription() = default;
  virtual void stop() = 0;
  /// Position of the next event to deliver.
  virtual std::int64_t next_position() const = 0;
};

/// A registration of event_store::watch_commits(); destroying it (or stop()) ends the calls.
class commit_watch {
 public:
  virtual ~commit_watch() = default;
  /// After it returns, the callback is not running and is never called again.
  virtual void stop() = 0;
};

class event_store {
 public:
  virtual ~event_store() = default;

  /// Appends atomically, blocking until durable. Thread-safe.
  virtual store_result<append_result> append(append_request req) = 0;

  /// Non-blocking form for actors: `done` runs on the writer thread once the batch holding
  /// this append has committed (or failed). Keep `done` short; hand the result back as a message.
  using append_callback = std::function<void(store_result<append_result>)>;
  virtual void append_async(append_request req, append_callback done) = 0;

  /// Events of one stream with stream_version >= from_version, in version order.
  virtual store_result<std::vector<events::recorded_event>> read_stream(
      const std::string& stream_id, std::int64_t from_version = 1,
      size_t max = std::numeric_limits<size_t>::max()) = 0;

  /// Events with position >= from_position, in position order, at most `max`.
  virtual store_result<std::vector<events::recorded_event>> read_all(std::int64_t from_position,
                                                                     size_t max) = 0;

  /// Position of the last committed event (0 when the log is empty).
  virtual store_result<std::int64_t> head_position() = 0;

  /// Delivers every event from `from_position` on, history first, then live ones, in order,
  /// with no gap and no duplicate.
  virtual std::unique_ptr<subscription> subscribe(std::int64_t from_position,
                                                  event_handler handler) = 0;

  /// Calls `on_commit` after each transaction this store object commits (on the committing
  /// thread, before the appends are answered), and every poll_interval_ms from a thread of
  /// its own, for events other processes or nodes wrote. For a follower that reads the log by
  /// itself (the projector): unlike subscribe(), it reads and copies no event. `on_commit`
  /// must be cheap and thread-safe, and must not call into the store. The default (for
  /// stores that only wrap another) calls it for each event of a subscription from the head.
  virtual std::unique_ptr<commit_watch> watch_commits(std::function<void()> on_commit);

  virtual store_result<done> save_snapshot(const snapshot& s) = 0;
  virtual store_result<std::optional<snapshot>> load_snapshot(const std::string& stream_id) = 0;

  /// Records an outcome for a command that wrote no events (e.g. a rejected command).
  /// Returns the record that is stored: the existing one if the id was seen before.
  virtual store_result<command_record> record_command(const command_record& rec) = 0;
  virtual store_result<std::optional<command_record>> find_command(
      const std::string& command_id) = 0;

  /// Backend name for logs and metrics: "memory", "sqlite", "postgres".
  virtual std::string backend() const = 0;
};

/// Opens a store from its URL: "memory:", "sqlite:///abs/path/file.db",
/// "postgresql://user@host:port/db" (any libpq URI; "postgres://" too).
store_result<std::unique_ptr<event_store>> open_event_store(const std::string& url,
                                                            const store_options& options = {});

}  // namespace certctl::store
