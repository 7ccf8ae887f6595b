#include "infra/store/postgres_store.hpp"

#include <pqxx/pqxx>

#include <mutex>

#include "infra/store/batching_store.hpp"

namespace certctl::store {
namespace {

// Arbitrary but fixed key of the advisory lock that serialises position allocation.
constexpr long long position_lock_key = 0x63657274637431;  // "certct1"

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS events (
  position BIGINT PRIMARY KEY,
  stream_id TEXT NOT NULL,
  stream_version BIGINT NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  occurred_at BIGINT NOT NULL,
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
  stream_version BIGINT NOT NULL,
  schema_version INTEGER NOT NULL,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
  command_id TEXT PRIMARY KEY,
  outcome TEXT NOT NULL,
  position BIGINT NOT NULL
);
)sql";

// The payload is TEXT, not JSONB: JSONB would reorder keys and change the bytes the hash
// chain covers.
constexpr const char* event_columns =
    "position, stream_id, stream_version, event_id, type, schema_version, occurred_at, "
    "principal, source_address, correlation_id, causation_id, payload, prev_hash, hash";

store_error pg_error(const std::exception& ex, const std::string& what) {
  if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&ex))
    return {store_errc::invalid_argument, "postgres: " + what + ": " + ex.what()};
  return {store_errc::unavailable, "postgres: " + what + ": " + ex.what()};
}

store_result<events::recorded_event> decode_event(const pqxx::row& r) {
  events::recorded_event e;
  e.position = r[0].as<std::int64_t>();
  for (int col = 1; col < 14; ++col) {
    if (r[col].is_null())
      return store_error{store_errc::corrupt, "event at position " + std::to_string(e.position) +
                                                  ": column " + r[col].name() + " is NULL"};
  }
  e.stream_id = r[1].as<std::string>();
  e.stream_version = r[2].as<std::int64_t>();
  e.event_id = r[3].as<std::string>();
  e.type = r[4].as<std::string>();
  e.schema_version = r[5].as<int>();
  e.occurred_at = r[6].as<std::int64_t>();
  e.principal = r[7].as<std::string>();
  e.source_address = r[8].as<std::string>();
  e.correlation_id = r[9].as<std::string>();
  e.causation_id = r[10].as<std::string>();
  e.payload = r[11].as<std::string>();
  e.prev_hash = r[12].as<std::string>();
  e.hash = r[13].as<std::string>();
  return e;
}

store_result<std::vector<events::recorded_event>> decode_events(const pqxx::result& res) {
  std::vector<events::recorded_event> out;
  out.reserve(res.size());
  for (const auto& row : res) {
    auto e = decode_event(row);
    if (!e) return e.error();
    out.push_back(std::move(e).value());
  }
  return out;
}

std::string sql_in_list(pqxx::transaction_base& tx, const std::vector<std::string>& values) {
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += tx.quote(values[i]);
  }
  return out + ")";
}

class postgres_transaction final : public write_transaction {
 public:
  explicit postgres_transaction(pqxx::connection& c) : tx_(c) {}

  store_result<log_head> head() override {
    try {
      tx_.exec_params("SELECT pg_advisory_xact_lock($1)", position_lock_key);
      auto r = tx_.exec("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1");
      if (r.empty()) return log_head{};
      return log_head{r[0][0].as<std::int64_t>(), r[0][1].as<std::string>()};
    } catch (const std::exception& ex) {
      return pg_error(ex, "read log head");
    }
  }

  store_result<std::map<std::string, std::int64_t>> stream_versions(
      const std::vector<std::string>& ids) override {
    try {
      std::map<std::string, std::int64_t> out;
      if (ids.empty()) return out;
      // One index probe per stream (max over the unique index), not a scan of every row of the
      // batch's streams, which would grow with the log.
      std::string values;
      for (size_t i = 0; i < ids.size(); ++i) values += (i ? ",(" : "(") + tx_.quote(ids[i]) + ")";
      auto r = tx_.exec(
          "SELECT s.id, (SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.id) "
          "FROM (VALUES " +
          values + ") AS s(id)");
      for (const auto& row : r)
        if (!row[1].is_null()) out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
      return out;
    } catch (const std::exception& ex) {
      return pg_error(ex, "read stream versions");
    }
  }

  store_result<std::map<std::string, command_record>> find_commands(
      const std::vector<std::string>& ids) override {
    try {
      std::map<std::string, command_record> out;
      auto r = tx_.exec("SELECT command_id, outcome, position FROM commands WHERE command_id IN " +
                        sql_in_list(tx_, ids));
      for (const auto& row : r) {
        auto id = row[0].as<std::string>();
        out[id] = command_record{id, row[1].as<std::string>(), row[2].as<std::int64_t>()};
      }
      return out;
    } catch (const std::exception& ex) {
      return pg_error(ex, "read command records");
    }
  }

  store_result<done> insert(const std::vector<events::recorded_event>& rows,
                            const std::vector<command_record>& commands) override {
    try {
      // One multi-row statement per table: one round trip however large the batch.
      if (!rows.empty()) {
        std::string sql = std::string("INSERT INTO events (") + event_columns + ") VALUES ";
        for (size_t i = 0; i < rows.size(); ++i) {
          const auto& e = rows[i];
          if (i) sql += ',';
          sql += '(' + std::to_string(e.position) + ',' + tx_.quote(e.stream_id) + ',' +
                 std::to_string(e.stream_version) + ',' + tx_.quote(e.event_id) + ',' +
                 tx_.quote(e.type) + ',' + std::to_string(e.schema_version) + ',' +
                 std::to_string(e.occurred_at) + ',' + tx_.quote(e.principal) + ',' +
                 tx_.quote(e.source_address) + ',' + tx_.quote(e.correlation_id) + ',' +
                 tx_.quote(e.causation_id) + ',' + tx_.quote(e.payload) + ',' +
                 tx_.quote(e.prev_hash) + ',' + tx_.quote(e.hash) + ')';
        }
        tx_.exec0(sql);
      }
      if (!commands.empty()) {
        std::string sql = "INSERT INTO commands (command_id, outcome, position) VALUES ";
        for (size_t i = 0; i < commands.size(); ++i) {
          if (i) sql += ',';
          sql += '(' + tx_.quote(commands[i].command_id) + ',' + tx_.quote(commands[i].outcome) +
                 ',' + std::to_string(commands[i].position) + ')';
        }
        tx_.exec0(sql);
      }
      return done{};
    } catch (const std::exception& ex) {
      return pg_error(ex, "append");
    }
  }

  store_result<done> commit() override {
    try {
      tx_.commit();
      return done{};
    } catch (const std::exception& ex) {
      return pg_error(ex, "commit");
    }
  }

 private:
  pqxx::work tx_;
};

class postgres_store final : public batching_store {
 public:
  postgres_store(std::unique_ptr<pqxx::connection> writer, std::string uri,
                 const store_options& options)
      : batching_store(options), writer_(std::move(writer)), uri_(std::move(uri)) {
    start();
  }
  ~postgres_store() override { shutdown(); }

  std::string backend() const override { return "postgres"; }

  store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream_id,
                                                                std::int64_t from_version,
                                                                size_t max) override {
    return with_reader("read stream", [&](pqxx::nontransaction& tx) {
      return decode_events(tx.exec_params(std::string("SELECT ") + event_columns +
                                              " FROM events WHERE stream_id = $1 AND "
                                              "stream_version >= $2 ORDER BY stream_version "
                                              "LIMIT $3",
                                          stream_id, from_version, clamp_limit(max)));
    });
  }

  store_result<std::vector<events::recorded_event>> read_all(std::int64_t from_position,
                                                             size_t max) override {
    return with_reader("read log", [&](pqxx::nontransaction& tx) {
      return decode_events(tx.exec_params(std::string("SELECT ") + event_columns +
                                              " FROM events WHERE position >= $1 ORDER BY "
                                              "position LIMIT $2",
                                          from_position, clamp_limit(max)));
    });
  }

  store_result<std::int64_t> head_position() override {
    return with_reader("read head", [&](pqxx::nontransaction& tx) -> store_result<std::int64_t> {
      return tx.exec("SELECT coalesce(max(position), 0) FROM events")[0][0].as<std::int64_t>();
    });
  }

  store_result<done> save_snapshot(const snapshot& s) override {
    return with_reader("save snapshot", [&](pqxx::nontransaction& tx) -> store_result<done> {
      tx.exec_params(
          "INSERT INTO snapshots (stream_id, stream_version, schema_version, state) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT (stream_id) DO UPDATE SET "
          "stream_version = excluded.stream_version, schema_version = excluded.schema_version, "
          "state = excluded.state WHERE excluded.stream_version >= snapshots.stream_version",
          s.stream_id, s.stream_version, s.schema_version, s.state);
      return done{};
    });
  }

  store_result<std::optional<snapshot>> load_snapshot(const std::string& stream_id) override {
    return with_reader(
        "load snapshot", [&](pqxx::nontransaction& tx) -> store_result<std::optional<snapshot>> {
          auto r = tx.exec_params(
              "SELECT stream_version, schema_version, state FROM snapshots "
              "WHERE stream_id = $1",
              stream_id);
          if (r.empty()) return std::optional<snapshot>{};
          return std::optional<snapshot>{snapshot{stream_id, r[0][0].as<std::int64_t>(),
                                                  r[0][1].as<int>(), r[0][2].as<std::string>()}};
        });
  }

  store_result<command_record> record_command(const command_record& rec) override {
    return with_reader(
        "record command", [&](pqxx::nontransaction& tx) -> store_result<command_record> {
          tx.exec_params(
              "INSERT INTO commands (command_id, outcome, position) VALUES ($1, $2, $3) "
              "ON CONFLICT (command_id) DO NOTHING",
              rec.command_id, rec.outcome, rec.position);
          auto r = tx.exec_params("SELECT outcome, position FROM commands WHERE command_id = $1",
                                  rec.command_id);
          if (r.empty()) return rec;
          return command_record{rec.command_id, r[0][0].as<std::string>(),
                                r[0][1].as<std::int64_t>()};
        });
  }

  store_result<std::optional<command_record>> find_command(const std::string& id) override {
    return with_reader(
        "find command",
        [&](pqxx::nontransaction& tx) -> store_result<std::optional<command_record>> {
          auto r =
              tx.exec_params("SELECT outcome, position FROM commands WHERE command_id = $1", id);
          if (r.empty()) return std::optional<command_record>{};
          return std::optional<command_record>{
              command_record{id, r[0][0].as<std::string>(), r[0][1].as<std::int64_t>()}};
        });
  }

 protected:
  store_result<std::unique_ptr<write_transaction>> begin_write() override {
    try {
      if (!writer_ || !writer_->is_open()) writer_ = std::make_unique<pqxx::connection>(uri_);
      return std::unique_ptr<write_transaction>(std::make_unique<postgres_transaction>(*writer_));
    } catch (const std::exception& ex) {
      writer_.reset();
      return pg_error(ex, "connect to " + redact_uri(uri_));
    }
  }

 private:
  static long long clamp_limit(size_t max) {
    return max > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<long long>(max);
  }

  /// Runs `fn` on a pooled connection; a broken connection is dropped, not returned to the pool.
  template <class Fn>
  auto with_reader(const char* what, Fn&& fn)
      -> decltype(fn(std::declval<pqxx::nontransaction&>())) {
    std::unique_ptr<pqxx::connection> c;
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!pool_.empty()) {
        c = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    try {
      if (!c || !c->is_open()) c = std::make_unique<pqxx::connection>(uri_);
      auto out = [&] {
        pqxx::nontransaction tx(*c);
        return fn(tx);
      }();
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (pool_.size() < options().read_pool_size) pool_.push_back(std::move(c));
      return out;
    } catch (const std::exception& ex) {
      return pg_error(ex, what);
    }
  }

  std::unique_ptr<pqxx::connection> writer_;
  std::string uri_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<pqxx::connection>> pool_;
};

}  // namespace

std::string redact_uri(const std::string& uri) {
  const auto scheme = uri.find("://");
  const auto at = uri.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return uri;
  const auto colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
}

store_result<std::unique_ptr<event_store>> open_postgres_store(const std::string& uri,
                                                               const store_options& options) {
  try {
    auto c = std::make_unique<pqxx::connection>(uri);
    pqxx::work tx(*c);
    // Nodes starting together must not race on CREATE TABLE.
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", position_lock_key + 1);
    tx.exec0(schema_sql);
    tx.commit();
    return std::unique_ptr<event_store>(
        std::make_unique<postgres_store>(std::move(c), uri, options));
  } catch (const std::exception& ex) {
    return store_error{store_errc::unavailable, "cannot open PostgreSQL event store at " +
                                                    redact_uri(uri) + ": " + ex.what()};
  }
}

}  // namespace certctl::store
