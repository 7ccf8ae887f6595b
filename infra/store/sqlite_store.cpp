#include "infra/store/sqlite_store.hpp"

#include <pthread.h>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "infra/sql/scoped_transaction.hpp"
#include "infra/sql/sqlite.hpp"
#include "infra/store/batching_store.hpp"

namespace certctl::store {
namespace {

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY,
  stream_id TEXT NOT NULL,
  stream_version INTEGER NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  occurred_at INTEGER NOT NULL,
  principal TEXT NOT NULL,
  source_address TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (stream_id, stream_version)
);
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id TEXT PRIMARY KEY,
  stream_version INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  state TEXT NOT NULL,
  position INTEGER NOT NULL DEFAULT 0,
  hash TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS commands (
  command_id TEXT PRIMARY KEY,
  outcome TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END;
)sql";

// Databases created before snapshots carried their chain anchor get the two columns; their
// old rows read as unanchored (position 0) and are ignored until the next save replaces them.
constexpr const char* snapshot_anchor_probe_sql = "SELECT position, hash FROM snapshots LIMIT 0";
constexpr const char* snapshot_anchor_migration_sql =
    "ALTER TABLE snapshots ADD COLUMN position INTEGER NOT NULL DEFAULT 0; "
    "ALTER TABLE snapshots ADD COLUMN hash TEXT NOT NULL DEFAULT '';";

constexpr const char* event_columns =
    "position, stream_id, stream_version, event_id, type, schema_version, occurred_at, "
    "principal, source_address, correlation_id, causation_id, payload, prev_hash, hash";

/// The store's reading of a database error: a refused constraint is the caller's fault
/// (a duplicate event or command id); anything else leaves the log unavailable for now.
store_error to_store_error(const sql::db_error& e, const std::string& what) {
  return {
      e.code == sql::db_errc::constraint ? store_errc::invalid_argument : store_errc::unavailable,
      what + ": " + e.message};
}

// Statement texts, built once: each is prepared once per connection and then found in its
// cache by text.
const std::string insert_event_sql = std::string("INSERT INTO events (") + event_columns +
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                     "?12, ?13, ?14)";
const std::string insert_command_sql =
    "INSERT INTO commands (command_id, outcome, position) VALUES (?1, ?2, ?3)";
const std::string head_sql = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1";
const std::string stream_version_sql =
    "SELECT max(stream_version) FROM events WHERE stream_id = ?1";
const std::string find_command_sql = "SELECT outcome, position FROM commands WHERE command_id = ?1";
const std::string read_stream_sql = std::string("SELECT ") + event_columns +
                                    " FROM events WHERE stream_id = ?1 AND stream_version >= ?2 "
                                    "ORDER BY stream_version LIMIT ?3";
const std::string read_all_sql = std::string("SELECT ") + event_columns +
                                 " FROM events WHERE position >= ?1 ORDER BY position LIMIT ?2";
const std::string head_position_sql = "SELECT coalesce(max(position), 0) FROM events";
const std::string save_snapshot_sql =
    "INSERT INTO snapshots (stream_id, stream_version, schema_version, state, position, hash) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (stream_id) DO UPDATE SET "
    "stream_version = excluded.stream_version, schema_version = excluded.schema_version, "
    "state = excluded.state, position = excluded.position, hash = excluded.hash "
    "WHERE excluded.stream_version >= snapshots.stream_version";
const std::string load_snapshot_sql =
    "SELECT stream_version, schema_version, state, position, hash FROM snapshots "
    "WHERE stream_id = ?1";
const std::string record_command_sql =
    "INSERT INTO commands (command_id, outcome, position) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (command_id) DO NOTHING";

using connection = sql::sqlite_connection;

/// Opens one connection: the writer sets WAL and creates the schema; a reader only sets its
/// own connection's durability.
store_result<std::unique_ptr<connection>> open_connection(const std::string& path, bool writer) {
  sql::sqlite_options o;
  // The WAL is copied back into the database by the store's checkpoint thread, off the
  // writer's path (see wal_checkpointer). The writer's own auto-checkpoint only runs once the
  // WAL holds 16,384 pages (64 MiB); by then the thread has copied nearly all of it, so the
  // writer copies the last few pages and lets the next transaction restart the WAL from the
  // top, which a checkpoint from another connection cannot do while appends keep coming. The
  // default interval (1000 pages) had the writer copy and fsync every dozen batches.
  o.setup = writer ? std::string(
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                         "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=16384;") +
                         schema_sql
                   : "PRAGMA synchronous=FULL;";
  auto c = connection::open(path, o);
  if (!c) return store_error{store_errc::unavailable, c.error().message};
  return std::move(c).value();
}

/// A cached statement for `sql`, or the store error saying why not.
store_result<sql::sqlite_statement> prepare(connection& c, const std::string& sql) {
  auto s = c.prepare(sql);
  if (!s) return to_store_error(s.error(), "prepare");
  return std::move(s).value();
}

/// Decodes the current row of an events query; a NULL or mistyped column is reported with
/// its position.
store_result<events::recorded_event> decode_event(const sql::sqlite_statement& s) {
  events::recorded_event e;
  e.position = s.int64(0);
  std::string* texts[] = {
      &e.stream_id, nullptr,           &e.event_id,       &e.type,         nullptr,    nullptr,
      &e.principal, &e.source_address, &e.correlation_id, &e.causation_id, &e.payload, &e.prev_hash,
      &e.hash};
  for (int col = 1; col <= 13; ++col) {
    std::string* target = texts[col - 1];
    if (target == nullptr) {
      if (!s.is_integer(col))
        return store_error{store_errc::corrupt, "event at position " + std::to_string(e.position) +
                                                    ": column " + std::to_string(col) +
                                                    " is not an integer"};
      continue;
    }
    auto v = s.text(col);
    if (!v)
      return store_error{store_errc::corrupt, "event at position " + std::to_string(e.position) +
                                                  ": column " + std::to_string(col) + " is NULL"};
    *target = std::move(*v);
  }
  e.stream_version = s.int64(2);
  e.schema_version = static_cast<int>(s.int64(5));
  e.occurred_at = s.int64(6);
  return e;
}

store_result<std::vector<events::recorded_event>> collect(sql::sqlite_statement& s) {
  std::vector<events::recorded_event> out;
  for (;;) {
    auto more = s.step();
    if (!more) return to_store_error(more.error(), "read events");
    if (!*more) break;
    auto e = decode_event(s);
    if (!e) return e.error();
    out.push_back(std::move(e).value());
  }
  return out;
}

/// Steps a statement expected to return at most one row; true when it returned one.
store_result<bool> step_one(sql::sqlite_statement& s, const char* what) {
  auto row = s.step();
  if (!row) return to_store_error(row.error(), what);
  return *row;
}

class sqlite_transaction final : public write_transaction {
 public:
  sqlite_transaction(sql::scoped_transaction<connection> tx, connection& c)
      : tx_(std::move(tx)), c_(c) {}

  store_result<log_head> head() override {
    auto s = prepare(c_, head_sql);
    if (!s) return s.error();
    auto found = step_one(*s, "read log head");
    if (!found) return found.error();
    log_head h;
    if (*found) {
      h.position = s->int64(0);
      h.hash = s->text(1).value_or("");
    }
    return h;
  }

  store_result<std::map<std::string, std::int64_t>> stream_versions(
      const std::vector<std::string>& ids) override {
    std::map<std::string, std::int64_t> out;
    for (const auto& id : ids) {
      auto s = prepare(c_, stream_version_sql);
      if (!s) return s.error();
      s->bind(1, id);
      auto found = step_one(*s, "read stream version");
      if (!found) return found.error();
      if (*found && !s->is_null(0)) out[id] = s->int64(0);
    }
    return out;
  }

  store_result<std::map<std::string, command_record>> find_commands(
      const std::vector<std::string>& ids) override {
    std::map<std::string, command_record> out;
    for (const auto& id : ids) {
      auto s = prepare(c_, find_command_sql);
      if (!s) return s.error();
      s->bind(1, id);
      auto found = step_one(*s, "read command record");
      if (!found) return found.error();
      if (*found) out[id] = command_record{id, s->text(0).value_or("{}"), s->int64(1)};
    }
    return out;
  }

  store_result<done> insert(const std::vector<events::recorded_event>& rows,
                            const std::vector<command_record>& commands) override {
    for (const auto& e : rows) {
      auto s = prepare(c_, insert_event_sql);
      if (!s) return s.error();
      s->bind(1, e.position)
          .bind(2, e.stream_id)
          .bind(3, e.stream_version)
          .bind(4, e.event_id)
          .bind(5, e.type)
          .bind(6, std::int64_t{e.schema_version})
          .bind(7, e.occurred_at)
          .bind(8, e.principal)
          .bind(9, e.source_address)
          .bind(10, e.correlation_id)
          .bind(11, e.causation_id)
          .bind(12, e.payload)
          .bind(13, e.prev_hash)
          .bind(14, e.hash);
      if (auto r = s->run(); !r)
        return to_store_error(r.error(), "append event " + e.event_id + " to " + e.stream_id);
    }
    for (const auto& cmd : commands) {
      auto s = prepare(c_, insert_command_sql);
      if (!s) return s.error();
      s->bind(1, cmd.command_id).bind(2, cmd.outcome).bind(3, cmd.position);
      if (auto r = s->run(); !r) return to_store_error(r.error(), "record command");
    }
    return done{};
  }

  store_result<done> commit() override {
    if (auto r = tx_.commit(); !r) return to_store_error(r.error(), "commit");
    return done{};
  }

 private:
  sql::scoped_transaction<connection> tx_;  ///< rolls back unless committed
  connection& c_;
};

/// Copies the WAL back into the database from its own connection and thread, every
/// `interval`, so that the appends' writer does not (PASSIVE: it never waits for, nor blocks,
/// the writer or readers). Each checkpoint syncs the database file itself.
class wal_checkpointer {
 public:
  wal_checkpointer(std::string path, std::chrono::milliseconds interval)
      : path_(std::move(path)), interval_(interval), thread_([this] { run(); }) {}
  ~wal_checkpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    pthread_setname_np(pthread_self(), "wal-checkpoint");  // for profiles
    std::unique_ptr<connection> c;
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval_, [&] { return stop_; })) {
      lock.unlock();
      if (!c) {
        auto opened = open_connection(path_, false);
        if (opened) c = std::move(opened).value();
      }
      // A failure (the file is busy, the disk is full) is left to the next round and, at
      // worst, to the writer's own auto-checkpoint: the log stays correct either way.
      if (c)
        if (auto s = c->prepare("PRAGMA wal_checkpoint(PASSIVE)")) (void)s->run();
      lock.lock();
    }
  }

  std::string path_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  ///< last: starts once the members above exist
};

class sqlite_store final : public batching_store {
 public:
  sqlite_store(std::unique_ptr<connection> writer, std::string path, const store_options& options)
      : batching_store(options),
        writer_(std::move(writer)),
        path_(std::move(path)),
        checkpointer_(std::make_unique<wal_checkpointer>(path_, std::chrono::milliseconds(50))) {
    start();
  }
  ~sqlite_store() override {
    shutdown();
    checkpointer_.reset();
  }

  std::string backend() const override { return "sqlite"; }

  store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream_id,
                                                                std::int64_t from_version,
                                                                size_t max) override {
    return with_reader([&](connection& c) -> store_result<std::vector<events::recorded_event>> {
      auto s = prepare(c, read_stream_sql);
      if (!s) return s.error();
      s->bind(1, stream_id).bind(2, from_version).bind(3, clamp_limit(max));
      return collect(*s);
    });
  }

  store_result<std::vector<events::recorded_event>> read_all(std::int64_t from_position,
                                                             size_t max) override {
    return with_reader([&](connection& c) -> store_result<std::vector<events::recorded_event>> {
      auto s = prepare(c, read_all_sql);
      if (!s) return s.error();
      s->bind(1, from_position).bind(2, clamp_limit(max));
      return collect(*s);
    });
  }

  store_result<std::int64_t> head_position() override {
    return with_reader([&](connection& c) -> store_result<std::int64_t> {
      auto s = prepare(c, head_position_sql);
      if (!s) return s.error();
      auto found = step_one(*s, "read head");
      if (!found) return found.error();
      if (!*found) return store_error{store_errc::unavailable, "read head: no row"};
      return s->int64(0);
    });
  }

  store_result<done> save_snapshot(const snapshot& snap) override {
    return with_reader([&](connection& c) -> store_result<done> {
      auto s = prepare(c, save_snapshot_sql);
      if (!s) return s.error();
      s->bind(1, snap.stream_id)
          .bind(2, snap.stream_version)
          .bind(3, std::int64_t{snap.schema_version})
          .bind(4, snap.state)
          .bind(5, snap.position)
          .bind(6, snap.hash);
      if (auto r = s->run(); !r) return to_store_error(r.error(), "save snapshot");
      return done{};
    });
  }

  store_result<std::optional<snapshot>> load_snapshot(const std::string& stream_id) override {
    return with_reader([&](connection& c) -> store_result<std::optional<snapshot>> {
      auto s = prepare(c, load_snapshot_sql);
      if (!s) return s.error();
      s->bind(1, stream_id);
      auto found = step_one(*s, "load snapshot");
      if (!found) return found.error();
      std::optional<snapshot> out;
      if (*found)
        out = snapshot{stream_id,
                       s->int64(0),
                       static_cast<int>(s->int64(1)),
                       s->text(2).value_or(""),
                       s->int64(3),
                       s->text(4).value_or("")};
      return out;
    });
  }

  store_result<command_record> record_command(const command_record& rec) override {
    auto inserted = with_reader([&](connection& c) -> store_result<done> {
      auto s = prepare(c, record_command_sql);
      if (!s) return s.error();
      s->bind(1, rec.command_id).bind(2, rec.outcome).bind(3, rec.position);
      if (auto r = s->run(); !r) return to_store_error(r.error(), "record command");
      return done{};
    });
    if (!inserted) return inserted.error();
    auto found = find_command(rec.command_id);
    if (!found) return found.error();
    return found->value_or(rec);
  }

  store_result<std::optional<command_record>> find_command(const std::string& id) override {
    return with_reader([&](connection& c) -> store_result<std::optional<command_record>> {
      auto s = prepare(c, find_command_sql);
      if (!s) return s.error();
      s->bind(1, id);
      auto found = step_one(*s, "read command record");
      if (!found) return found.error();
      std::optional<command_record> out;
      if (*found) out = command_record{id, s->text(0).value_or("{}"), s->int64(1)};
      return out;
    });
  }

 protected:
  store_result<std::unique_ptr<write_transaction>> begin_write() override {
    // BEGIN IMMEDIATE takes the write lock now, so the head we read stays the head until
    // commit, even with another process writing the same file.
    auto tx = sql::scoped_transaction<connection>::begin(*writer_);
    if (!tx) return to_store_error(tx.error(), "begin");
    return std::unique_ptr<write_transaction>(
        std::make_unique<sqlite_transaction>(std::move(tx).value(), *writer_));
  }

 private:
  static std::int64_t clamp_limit(size_t max) {
    return max > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(max);
  }

  /// Runs `fn` on a pooled read connection (WAL lets readers run beside the writer).
  template <class Fn>
  auto with_reader(Fn&& fn) -> decltype(fn(std::declval<connection&>())) {
    std::unique_ptr<connection> c;
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!pool_.empty()) {
        c = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (!c) {
      auto opened = open_connection(path_, false);
      if (!opened) return opened.error();
      c = std::move(opened).value();
    }
    auto out = fn(*c);
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (pool_.size() < options().read_pool_size) pool_.push_back(std::move(c));
    return out;
  }

  std::unique_ptr<connection> writer_;
  std::string path_;
  std::unique_ptr<wal_checkpointer> checkpointer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<connection>> pool_;
};

}  // namespace

store_result<std::unique_ptr<event_store>> open_sqlite_store(const std::string& path,
                                                             const store_options& options) {
  auto writer = open_connection(path, true);
  if (!writer) return writer.error();
  if (!(*writer)->prepare(snapshot_anchor_probe_sql)) {
    if (auto migrated = (*writer)->exec_script(snapshot_anchor_migration_sql); !migrated)
      return to_store_error(migrated.error(), "add snapshot anchor columns");
  }
  return std::unique_ptr<event_store>(
      std::make_unique<sqlite_store>(std::move(writer).value(), path, options));
}

}  // namespace certctl::store
