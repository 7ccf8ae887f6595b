#include "infra/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <mutex>

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
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
  command_id TEXT PRIMARY KEY,
  outcome TEXT NOT NULL,
  position INTEGER NOT NULL
);
)sql";

constexpr const char* event_columns =
    "position, stream_id, stream_version, event_id, type, schema_version, occurred_at, "
    "principal, source_address, correlation_id, causation_id, payload, prev_hash, hash";

store_error db_error(sqlite3* db, const std::string& what) {
  const int code = sqlite3_extended_errcode(db);
  const auto errc =
      (code & 0xff) == SQLITE_CONSTRAINT ? store_errc::invalid_argument : store_errc::unavailable;
  return {errc, "sqlite: " + what + ": " + sqlite3_errmsg(db)};
}

/// A connection with its prepared statements; not thread-safe, one user at a time.
class connection {
 public:
  static store_result<std::unique_ptr<connection>> open(const std::string& path, bool writer) {
    auto c = std::unique_ptr<connection>(new connection);
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &c->db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = c->db_ ? sqlite3_errmsg(c->db_) : "out of memory";
      return store_error{store_errc::unavailable,
                         "cannot open SQLite database " + path + ": " + msg};
    }
    sqlite3_busy_timeout(c->db_, 10000);
    // A larger auto-checkpoint interval: the default (1000 pages) makes the writer checkpoint
    // and fsync the database every dozen batches, halving append throughput.
    const char* pragmas = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                                   "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=16384;"
                                 : "PRAGMA synchronous=FULL;";
    if (auto err = c->exec(pragmas)) return *err;
    if (writer) {
      if (auto err = c->exec(schema_sql)) return *err;
    }
    return c;
  }

  ~connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  std::optional<store_error> exec(const char* sql) {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg ? msg : "unknown error";
      sqlite3_free(msg);
      return store_error{store_errc::unavailable, std::string("sqlite: ") + text};
    }
    return std::nullopt;
  }

  /// A cached prepared statement, reset and unbound, ready for binding.
  store_result<sqlite3_stmt*> prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      return db_error(db_, "prepare");
    cache_.emplace(sql, stmt);
    return stmt;
  }

  sqlite3* db() const { return db_; }

 private:
  connection() = default;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> cache_;
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::optional<std::string> column_text(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

/// Decodes one events row; a NULL or mistyped column is reported with its position.
store_result<events::recorded_event> decode_event(sqlite3_stmt* s) {
  events::recorded_event e;
  e.position = sqlite3_column_int64(s, 0);
  std::string* texts[] = {
      &e.stream_id, nullptr,           &e.event_id,       &e.type,         nullptr,    nullptr,
      &e.principal, &e.source_address, &e.correlation_id, &e.causation_id, &e.payload, &e.prev_hash,
      &e.hash};
  for (int col = 1; col <= 13; ++col) {
    std::string* target = texts[col - 1];
    if (target == nullptr) {
      if (sqlite3_column_type(s, col) != SQLITE_INTEGER)
        return store_error{store_errc::corrupt, "event at position " + std::to_string(e.position) +
                                                    ": column " + std::to_string(col) +
                                                    " is not an integer"};
      continue;
    }
    auto v = column_text(s, col);
    if (!v)
      return store_error{store_errc::corrupt, "event at position " + std::to_string(e.position) +
                                                  ": column " + std::to_string(col) + " is NULL"};
    *target = std::move(*v);
  }
  e.stream_version = sqlite3_column_int64(s, 2);
  e.schema_version = sqlite3_column_int(s, 5);
  e.occurred_at = sqlite3_column_int64(s, 6);
  return e;
}

store_result<std::vector<events::recorded_event>> collect(connection& c, sqlite3_stmt* s) {
  std::vector<events::recorded_event> out;
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return db_error(c.db(), "read events");
    auto e = decode_event(s);
    if (!e) return e.error();
    out.push_back(std::move(e).value());
  }
  sqlite3_reset(s);
  return out;
}

class sqlite_transaction final : public write_transaction {
 public:
  explicit sqlite_transaction(connection& c) : c_(c) {}
  ~sqlite_transaction() override {
    if (!finished_) c_.exec("ROLLBACK");
  }

  store_result<done> begin() {
    // IMMEDIATE takes the write lock now, so the head we read stays the head until commit,
    // even with another process writing the same file.
    if (auto err = c_.exec("BEGIN IMMEDIATE")) {
      finished_ = true;
      return *err;
    }
    return done{};
  }

  store_result<log_head> head() override {
    auto s = c_.prepare("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1");
    if (!s) return s.error();
    log_head h;
    const int rc = sqlite3_step(*s);
    if (rc == SQLITE_ROW) {
      h.position = sqlite3_column_int64(*s, 0);
      h.hash = column_text(*s, 1).value_or("");
    } else if (rc != SQLITE_DONE) {
      return db_error(c_.db(), "read log head");
    }
    sqlite3_reset(*s);
    return h;
  }

  store_result<std::map<std::string, std::int64_t>> stream_versions(
      const std::vector<std::string>& ids) override {
    std::map<std::string, std::int64_t> out;
    for (const auto& id : ids) {
      auto s = c_.prepare("SELECT max(stream_version) FROM events WHERE stream_id = ?1");
      if (!s) return s.error();
      bind_text(*s, 1, id);
      if (sqlite3_step(*s) != SQLITE_ROW) return db_error(c_.db(), "read stream version");
      if (sqlite3_column_type(*s, 0) != SQLITE_NULL) out[id] = sqlite3_column_int64(*s, 0);
      sqlite3_reset(*s);
    }
    return out;
  }

  store_result<std::map<std::string, command_record>> find_commands(
      const std::vector<std::string>& ids) override {
    std::map<std::string, command_record> out;
    for (const auto& id : ids) {
      auto s = c_.prepare("SELECT outcome, position FROM commands WHERE command_id = ?1");
      if (!s) return s.error();
      bind_text(*s, 1, id);
      const int rc = sqlite3_step(*s);
      if (rc == SQLITE_ROW) {
        out[id] =
            command_record{id, column_text(*s, 0).value_or("{}"), sqlite3_column_int64(*s, 1)};
      } else if (rc != SQLITE_DONE) {
        return db_error(c_.db(), "read command record");
      }
      sqlite3_reset(*s);
    }
    return out;
  }

  store_result<done> insert(const std::vector<events::recorded_event>& rows,
                            const std::vector<command_record>& commands) override {
    for (const auto& e : rows) {
      auto s = c_.prepare(std::string("INSERT INTO events (") + event_columns +
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
      if (!s) return s.error();
      sqlite3_bind_int64(*s, 1, e.position);
      bind_text(*s, 2, e.stream_id);
      sqlite3_bind_int64(*s, 3, e.stream_version);
      bind_text(*s, 4, e.event_id);
      bind_text(*s, 5, e.type);
      sqlite3_bind_int(*s, 6, e.schema_version);
      sqlite3_bind_int64(*s, 7, e.occurred_at);
      bind_text(*s, 8, e.principal);
      bind_text(*s, 9, e.source_address);
      bind_text(*s, 10, e.correlation_id);
      bind_text(*s, 11, e.causation_id);
      bind_text(*s, 12, e.payload);
      bind_text(*s, 13, e.prev_hash);
      bind_text(*s, 14, e.hash);
      if (sqlite3_step(*s) != SQLITE_DONE)
        return db_error(c_.db(), "append event " + e.event_id + " to " + e.stream_id);
      sqlite3_reset(*s);
    }
    for (const auto& cmd : commands) {
      auto s =
          c_.prepare("INSERT INTO commands (command_id, outcome, position) VALUES (?1, ?2, ?3)");
      if (!s) return s.error();
      bind_text(*s, 1, cmd.command_id);
      bind_text(*s, 2, cmd.outcome);
      sqlite3_bind_int64(*s, 3, cmd.position);
      if (sqlite3_step(*s) != SQLITE_DONE) return db_error(c_.db(), "record command");
      sqlite3_reset(*s);
    }
    return done{};
  }

  store_result<done> commit() override {
    finished_ = true;
    if (auto err = c_.exec("COMMIT")) {
      c_.exec("ROLLBACK");
      return *err;
    }
    return done{};
  }

 private:
  connection& c_;
  bool finished_ = false;
};

class sqlite_store final : public batching_store {
 public:
  sqlite_store(std::unique_ptr<connection> writer, std::string path, const store_options& options)
      : batching_store(options), writer_(std::move(writer)), path_(std::move(path)) {
    start();
  }
  ~sqlite_store() override { shutdown(); }

  std::string backend() const override { return "sqlite"; }

  store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream_id,
                                                                std::int64_t from_version,
                                                                size_t max) override {
    return with_reader([&](connection& c) -> store_result<std::vector<events::recorded_event>> {
      auto s = c.prepare(std::string("SELECT ") + event_columns +
                         " FROM events WHERE stream_id = ?1 AND stream_version >= ?2 "
                         "ORDER BY stream_version LIMIT ?3");
      if (!s) return s.error();
      bind_text(*s, 1, stream_id);
      sqlite3_bind_int64(*s, 2, from_version);
      sqlite3_bind_int64(*s, 3, clamp_limit(max));
      return collect(c, *s);
    });
  }

  store_result<std::vector<events::recorded_event>> read_all(std::int64_t from_position,
                                                             size_t max) override {
    return with_reader([&](connection& c) -> store_result<std::vector<events::recorded_event>> {
      auto s = c.prepare(std::string("SELECT ") + event_columns +
                         " FROM events WHERE position >= ?1 ORDER BY position LIMIT ?2");
      if (!s) return s.error();
      sqlite3_bind_int64(*s, 1, from_position);
      sqlite3_bind_int64(*s, 2, clamp_limit(max));
      return collect(c, *s);
    });
  }

  store_result<std::int64_t> head_position() override {
    return with_reader([&](connection& c) -> store_result<std::int64_t> {
      auto s = c.prepare("SELECT coalesce(max(position), 0) FROM events");
      if (!s) return s.error();
      if (sqlite3_step(*s) != SQLITE_ROW) return db_error(c.db(), "read head");
      const std::int64_t head = sqlite3_column_int64(*s, 0);
      sqlite3_reset(*s);
      return head;
    });
  }

  store_result<done> save_snapshot(const snapshot& snap) override {
    return with_reader([&](connection& c) -> store_result<done> {
      auto s = c.prepare(
          "INSERT INTO snapshots (stream_id, stream_version, schema_version, state) "
          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (stream_id) DO UPDATE SET "
          "stream_version = excluded.stream_version, schema_version = excluded.schema_version, "
          "state = excluded.state WHERE excluded.stream_version >= snapshots.stream_version");
      if (!s) return s.error();
      bind_text(*s, 1, snap.stream_id);
      sqlite3_bind_int64(*s, 2, snap.stream_version);
      sqlite3_bind_int(*s, 3, snap.schema_version);
      bind_text(*s, 4, snap.state);
      if (sqlite3_step(*s) != SQLITE_DONE) return db_error(c.db(), "save snapshot");
      sqlite3_reset(*s);
      return done{};
    });
  }

  store_result<std::optional<snapshot>> load_snapshot(const std::string& stream_id) override {
    return with_reader([&](connection& c) -> store_result<std::optional<snapshot>> {
      auto s = c.prepare(
          "SELECT stream_version, schema_version, state FROM snapshots WHERE stream_id = ?1");
      if (!s) return s.error();
      bind_text(*s, 1, stream_id);
      std::optional<snapshot> out;
      const int rc = sqlite3_step(*s);
      if (rc == SQLITE_ROW) {
        out = snapshot{stream_id, sqlite3_column_int64(*s, 0), sqlite3_column_int(*s, 1),
                       column_text(*s, 2).value_or("")};
      } else if (rc != SQLITE_DONE) {
        return db_error(c.db(), "load snapshot");
      }
      sqlite3_reset(*s);
      return out;
    });
  }

  store_result<command_record> record_command(const command_record& rec) override {
    auto inserted = with_reader([&](connection& c) -> store_result<done> {
      auto s = c.prepare(
          "INSERT INTO commands (command_id, outcome, position) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (command_id) DO NOTHING");
      if (!s) return s.error();
      bind_text(*s, 1, rec.command_id);
      bind_text(*s, 2, rec.outcome);
      sqlite3_bind_int64(*s, 3, rec.position);
      if (sqlite3_step(*s) != SQLITE_DONE) return db_error(c.db(), "record command");
      sqlite3_reset(*s);
      return done{};
    });
    if (!inserted) return inserted.error();
    auto found = find_command(rec.command_id);
    if (!found) return found.error();
    return found->value_or(rec);
  }

  store_result<std::optional<command_record>> find_command(const std::string& id) override {
    return with_reader([&](connection& c) -> store_result<std::optional<command_record>> {
      auto s = c.prepare("SELECT outcome, position FROM commands WHERE command_id = ?1");
      if (!s) return s.error();
      bind_text(*s, 1, id);
      std::optional<command_record> out;
      const int rc = sqlite3_step(*s);
      if (rc == SQLITE_ROW) {
        out = command_record{id, column_text(*s, 0).value_or("{}"), sqlite3_column_int64(*s, 1)};
      } else if (rc != SQLITE_DONE) {
        return db_error(c.db(), "read command record");
      }
      sqlite3_reset(*s);
      return out;
    });
  }

 protected:
  store_result<std::unique_ptr<write_transaction>> begin_write() override {
    auto tx = std::make_unique<sqlite_transaction>(*writer_);
    auto begun = tx->begin();
    if (!begun) return begun.error();
    return std::unique_ptr<write_transaction>(std::move(tx));
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
      auto opened = connection::open(path_, false);
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
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<connection>> pool_;
};

}  // namespace

store_result<std::unique_ptr<event_store>> open_sqlite_store(const std::string& path,
                                                             const store_options& options) {
  auto writer = connection::open(path, true);
  if (!writer) return writer.error();
  return std::unique_ptr<event_store>(
      std::make_unique<sqlite_store>(std::move(writer).value(), path, options));
}

}  // namespace certctl::store
