#include "infra/store/postgres_store.hpp"

#include <mutex>

#include "infra/sql/postgres.hpp"
#include "infra/sql/scoped_transaction.hpp"
#include "infra/sql/url.hpp"
#include "infra/store/batching_store.hpp"
#include "infra/store/postgres_schema.hpp"

namespace certctl::store {
namespace {

// Arbitrary but fixed key of the advisory lock that serialises position allocation.
constexpr std::int64_t position_lock_key = 0x63657274637431;  // "certct1"

// The payload is TEXT, not JSONB: JSONB would reorder keys and change the bytes the hash
// chain covers.
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

using connection = sql::pg_connection;

// Statement texts, built once. Every statement of the append path has one fixed text (a batch
// travels as arrays through unnest), so each is prepared once per connection.
const std::string lock_sql = "SELECT pg_advisory_xact_lock($1::bigint)";
const std::string head_sql = "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1";
// One index probe per stream (max over the unique index), not a scan of every row of the
// batch's streams, which would grow with the log.
const std::string stream_versions_sql =
    "SELECT s.id, (SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.id) "
    "FROM unnest($1::text[]) AS s(id)";
const std::string find_commands_sql =
    "SELECT command_id, outcome, position FROM commands WHERE command_id = ANY($1::text[])";
// The lock, the head, the batch's stream versions and its known commands in one round trip
// (the function in postgres_schema.cpp).
const std::string batch_state_sql =
    "SELECT r_kind, r_id, r_num, r_text FROM certctl_batch_state($1::bigint, $2::text[], "
    "$3::text[])";
// The check and the insert of a whole batch in one autocommit statement (the function in
// postgres_schema.cpp).
const std::string append_batch_sql =
    "SELECT r_kind, r_id, r_num, r_text FROM certctl_append_batch($1::bigint, $2::bigint, "
    "$3::text, $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], "
    "$10::text[], $11::bigint[], $12::text[], $13::text[], $14::integer[], $15::bigint[], "
    "$16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], "
    "$23::text[], $24::text[], $25::bigint[], $26::text[], $27::text[])";
// Events and command records in one statement: one round trip however large the batch.
const std::string insert_batch_sql =
    std::string("WITH new_events AS (INSERT INTO events (") + event_columns +
    ") SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], "
    "$6::integer[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], "
    "$12::text[], $13::text[], $14::text[])) "
    "INSERT INTO commands (command_id, outcome, position) "
    "SELECT * FROM unnest($15::text[], $16::text[], $17::bigint[])";
const std::string read_stream_sql = std::string("SELECT ") + event_columns +
                                    " FROM events WHERE stream_id = $1 AND stream_version >= $2 "
                                    "ORDER BY stream_version LIMIT $3";
const std::string read_all_sql = std::string("SELECT ") + event_columns +
                                 " FROM events WHERE position >= $1 ORDER BY position LIMIT $2";
const std::string head_position_sql = "SELECT coalesce(max(position), 0) FROM events";
const std::string save_snapshot_sql =
    "INSERT INTO snapshots (stream_id, stream_version, schema_version, state, position, hash) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (stream_id) DO UPDATE SET "
    "stream_version = excluded.stream_version, schema_version = excluded.schema_version, "
    "state = excluded.state, position = excluded.position, hash = excluded.hash "
    "WHERE excluded.stream_version >= snapshots.stream_version";
const std::string load_snapshot_sql =
    "SELECT stream_version, schema_version, state, position, hash FROM snapshots "
    "WHERE stream_id = $1";
const std::string record_command_sql =
    "INSERT INTO commands (command_id, outcome, position) VALUES ($1, $2, $3) "
    "ON CONFLICT (command_id) DO NOTHING";
const std::string find_command_sql = "SELECT outcome, position FROM commands WHERE command_id = $1";

/// Text of a column the query guarantees to be text (or NULL, read as empty).
std::string take_text(sql::row& r, size_t i) {
  auto* s = std::get_if<std::string>(&r.columns()[i]);
  return s != nullptr ? std::move(*s) : r.text(i).value_or("");
}

store_result<events::recorded_event> decode_event(sql::row& r) {
  static const char* const names[] = {"position",       "stream_id",    "stream_version",
                                      "event_id",       "type",         "schema_version",
                                      "occurred_at",    "principal",    "source_address",
                                      "correlation_id", "causation_id", "payload",
                                      "prev_hash",      "hash"};
  events::recorded_event e;
  e.position = r.int64(0).value_or(0);
  for (size_t col = 1; col < 14; ++col) {
    if (r.is_null(col))
      return store_error{store_errc::corrupt, "event at position " + std::to_string(e.position) +
                                                  ": column " + names[col] + " is NULL"};
  }
  e.stream_id = take_text(r, 1);
  e.stream_version = r.int64(2).value_or(0);
  e.event_id = take_text(r, 3);
  e.type = take_text(r, 4);
  e.schema_version = static_cast<int>(r.int64(5).value_or(0));
  e.occurred_at = r.int64(6).value_or(0);
  e.principal = take_text(r, 7);
  e.source_address = take_text(r, 8);
  e.correlation_id = take_text(r, 9);
  e.causation_id = take_text(r, 10);
  e.payload = take_text(r, 11);
  e.prev_hash = take_text(r, 12);
  e.hash = take_text(r, 13);
  return e;
}

store_result<std::vector<events::recorded_event>> decode_events(sql::rows rows) {
  std::vector<events::recorded_event> out;
  out.reserve(rows.size());
  for (auto& row : rows) {
    auto e = decode_event(row);
    if (!e) return e.error();
    out.push_back(std::move(e).value());
  }
  return out;
}

/// The 17 array parameters (14 event columns, 3 command columns) of a batch's insert.
void add_batch_arrays(const std::vector<events::recorded_event>& rows,
                      const std::vector<command_record>& commands, sql::params& p) {
  sql::pg_array col[17];
  for (const auto& e : rows) {
    col[0].add(e.position);
    col[1].add(e.stream_id);
    col[2].add(e.stream_version);
    col[3].add(e.event_id);
    col[4].add(e.type);
    col[5].add(std::int64_t{e.schema_version});
    col[6].add(e.occurred_at);
    col[7].add(e.principal);
    col[8].add(e.source_address);
    col[9].add(e.correlation_id);
    col[10].add(e.causation_id);
    col[11].add(e.payload);
    col[12].add(e.prev_hash);
    col[13].add(e.hash);
  }
  for (const auto& cmd : commands) {
    col[14].add(cmd.command_id);
    col[15].add(cmd.outcome);
    col[16].add(cmd.position);
  }
  for (auto& c : col) p.emplace_back(std::move(c).str());
}

/// Reads the rows of certctl_batch_state / a refused certctl_append_batch.
write_transaction::batch_state decode_batch_state(sql::rows& rows) {
  write_transaction::batch_state out;
  for (auto& row : rows) {
    const auto kind = take_text(row, 0);
    if (kind == "head") {
      out.head = write_transaction::log_head{row.int64(2).value_or(0), take_text(row, 3)};
    } else if (kind == "stream") {
      if (!row.is_null(2)) out.versions[take_text(row, 1)] = row.int64(2).value_or(0);
    } else if (kind == "command") {
      auto id = take_text(row, 1);
      out.commands[id] = command_record{id, take_text(row, 3), row.int64(2).value_or(0)};
    }
  }
  return out;
}

class postgres_transaction final : public write_transaction {
 public:
  postgres_transaction(sql::scoped_transaction<connection> tx, connection& c)
      : tx_(std::move(tx)), c_(c) {}

  store_result<log_head> head() override {
    if (auto locked = c_.query(lock_sql, {sql::sql_value{position_lock_key}}); !locked)
      return to_store_error(locked.error(), "lock positions");
    auto r = c_.query(head_sql);
    if (!r) return to_store_error(r.error(), "read log head");
    if (r->empty()) return log_head{};
    return log_head{(*r)[0].int64(0).value_or(0), take_text((*r)[0], 1)};
  }

  store_result<std::map<std::string, std::int64_t>> stream_versions(
      const std::vector<std::string>& ids) override {
    std::map<std::string, std::int64_t> out;
    if (ids.empty()) return out;
    sql::pg_array list;
    for (const auto& id : ids) list.add(id);
    auto r = c_.query(stream_versions_sql, {std::move(list).str()});
    if (!r) return to_store_error(r.error(), "read stream versions");
    for (auto& row : *r)
      if (!row.is_null(1)) out[take_text(row, 0)] = row.int64(1).value_or(0);
    return out;
  }

  store_result<std::map<std::string, command_record>> find_commands(
      const std::vector<std::string>& ids) override {
    std::map<std::string, command_record> out;
    if (ids.empty()) return out;
    sql::pg_array list;
    for (const auto& id : ids) list.add(id);
    auto r = c_.query(find_commands_sql, {std::move(list).str()});
    if (!r) return to_store_error(r.error(), "read command records");
    for (auto& row : *r) {
      auto id = take_text(row, 0);
      out[id] = command_record{id, take_text(row, 1), row.int64(2).value_or(0)};
    }
    return out;
  }

  store_result<batch_state> read_batch_state(const std::vector<std::string>& stream_ids,
                                             const std::vector<std::string>& command_ids) override {
    sql::pg_array streams, commands;
    for (const auto& id : stream_ids) streams.add(id);
    for (const auto& id : command_ids) commands.add(id);
    auto r = c_.query(batch_state_sql, {sql::sql_value{position_lock_key}, std::move(streams).str(),
                                        std::move(commands).str()});
    if (!r) return to_store_error(r.error(), "read batch state");
    return decode_batch_state(*r);
  }

  store_result<done> insert(const std::vector<events::recorded_event>& rows,
                            const std::vector<command_record>& commands) override {
    sql::params p;
    p.reserve(17);
    add_batch_arrays(rows, commands, p);
    if (auto r = c_.exec(insert_batch_sql, p); !r) return to_store_error(r.error(), "append");
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

class postgres_store final : public batching_store {
 public:
  postgres_store(std::unique_ptr<connection> writer, std::string uri, const store_options& options)
      : batching_store(options), writer_(std::move(writer)), uri_(std::move(uri)) {
    start();
  }
  ~postgres_store() override { shutdown(); }

  std::string backend() const override { return "postgres"; }

  store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream_id,
                                                                std::int64_t from_version,
                                                                size_t max) override {
    return with_reader([&](connection& c) -> store_result<std::vector<events::recorded_event>> {
      auto r = c.query(read_stream_sql, {stream_id, from_version, clamp_limit(max)});
      if (!r) return to_store_error(r.error(), "read stream");
      return decode_events(std::move(r).value());
    });
  }

  store_result<std::vector<events::recorded_event>> read_all(std::int64_t from_position,
                                                             size_t max) override {
    return with_reader([&](connection& c) -> store_result<std::vector<events::recorded_event>> {
      auto r = c.query(read_all_sql, {from_position, clamp_limit(max)});
      if (!r) return to_store_error(r.error(), "read log");
      return decode_events(std::move(r).value());
    });
  }

  store_result<std::int64_t> head_position() override {
    return with_reader([&](connection& c) -> store_result<std::int64_t> {
      auto r = c.query(head_position_sql);
      if (!r) return to_store_error(r.error(), "read head");
      if (r->empty()) return store_error{store_errc::unavailable, "read head: no row"};
      return (*r)[0].int64(0).value_or(0);
    });
  }

  store_result<done> save_snapshot(const snapshot& s) override {
    return with_reader([&](connection& c) -> store_result<done> {
      auto r =
          c.exec(save_snapshot_sql, {s.stream_id, s.stream_version, std::int64_t{s.schema_version},
                                     s.state, s.position, s.hash});
      if (!r) return to_store_error(r.error(), "save snapshot");
      return done{};
    });
  }

  store_result<std::optional<snapshot>> load_snapshot(const std::string& stream_id) override {
    return with_reader([&](connection& c) -> store_result<std::optional<snapshot>> {
      auto r = c.query(load_snapshot_sql, {stream_id});
      if (!r) return to_store_error(r.error(), "load snapshot");
      if (r->empty()) return std::optional<snapshot>{};
      auto& row = (*r)[0];
      return std::optional<snapshot>{
          snapshot{stream_id, row.int64(0).value_or(0), static_cast<int>(row.int64(1).value_or(0)),
                   take_text(row, 2), row.int64(3).value_or(0), take_text(row, 4)}};
    });
  }

  store_result<command_record> record_command(const command_record& rec) override {
    return with_reader([&](connection& c) -> store_result<command_record> {
      if (auto ins = c.exec(record_command_sql, {rec.command_id, rec.outcome, rec.position}); !ins)
        return to_store_error(ins.error(), "record command");
      auto r = c.query(find_command_sql, {rec.command_id});
      if (!r) return to_store_error(r.error(), "record command");
      if (r->empty()) return rec;
      auto& row = (*r)[0];
      return command_record{rec.command_id, take_text(row, 0), row.int64(1).value_or(0)};
    });
  }

  store_result<std::optional<command_record>> find_command(const std::string& id) override {
    return with_reader([&](connection& c) -> store_result<std::optional<command_record>> {
      auto r = c.query(find_command_sql, {id});
      if (!r) return to_store_error(r.error(), "find command");
      if (r->empty()) return std::optional<command_record>{};
      auto& row = (*r)[0];
      return std::optional<command_record>{
          command_record{id, take_text(row, 0), row.int64(1).value_or(0)}};
    });
  }

 protected:
  bool conditional_writes() const override { return true; }
  bool answers_off_writer() const override { return false; }

  store_result<conditional_outcome> write_if_unchanged(const conditional_batch& b) override {
    if (auto ready = ensure_writer(); !ready) return ready.error();
    sql::pg_array streams, versions, check_ids, check_versions, commands, before, after;
    for (const auto& id : b.stream_ids) streams.add(id);
    for (auto v : b.stream_versions) versions.add(v);
    for (const auto& [id, v] : b.unverified_versions) {
      check_ids.add(id);
      check_versions.add(v);
    }
    for (const auto& id : b.new_command_ids) commands.add(id);
    if (b.rechain != nullptr)
      for (const auto& part : *b.rechain) {
        before.add(part.before_position);
        after.add(part.after_position);
      }
    sql::params p;
    p.reserve(27);
    p.emplace_back(position_lock_key);
    p.emplace_back(b.head.position);
    p.emplace_back(b.head.hash);
    p.emplace_back(std::move(streams).str());
    p.emplace_back(std::move(versions).str());
    p.emplace_back(std::move(check_ids).str());
    p.emplace_back(std::move(check_versions).str());
    p.emplace_back(std::move(commands).str());
    add_batch_arrays(*b.rows, *b.commands, p);
    p.emplace_back(std::move(before).str());
    p.emplace_back(std::move(after).str());
    auto r = writer_->query(append_batch_sql, p);
    if (!r) {
      if (writer_->broken()) writer_.reset();
      return to_store_error(r.error(), "append");
    }
    conditional_outcome out;
    const std::string kind = r->empty() ? std::string() : take_text((*r)[0], 0);
    if (kind == "written") return out;
    if (kind == "chained") {
      out.chained.reserve(r->size());
      for (auto& row : *r) out.chained.emplace_back(row.int64(2).value_or(0), take_text(row, 3));
      // Committed, but not as the writer can account for: let it start from the log again.
      if (out.chained.size() != b.rows->size())
        return store_error{store_errc::unavailable, "append: the batch was chained unexpectedly"};
      return out;
    }
    out.refused = decode_batch_state(*r);
    return out;
  }

  store_result<std::unique_ptr<write_transaction>> begin_write() override {
    if (auto ready = ensure_writer(); !ready) return ready.error();
    auto tx = sql::scoped_transaction<connection>::begin(*writer_);
    if (!tx) {
      if (writer_->broken()) writer_.reset();
      return to_store_error(tx.error(), "begin");
    }
    return std::unique_ptr<write_transaction>(
        std::make_unique<postgres_transaction>(std::move(tx).value(), *writer_));
  }

 private:
  /// The writer's connection, opened again after it broke.
  store_result<done> ensure_writer() {
    if (!writer_ || writer_->broken()) {
      writer_.reset();
      auto c = connection::connect(uri_);
      if (!c) return to_store_error(c.error(), "connect");
      writer_ = std::move(c).value();
    }
    return done{};
  }

  static std::int64_t clamp_limit(size_t max) {
    return max > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(max);
  }

  /// Runs `fn` on a pooled connection; a broken connection is dropped, not returned to the pool.
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
    if (!c || c->broken()) {
      auto opened = connection::connect(uri_);
      if (!opened) return to_store_error(opened.error(), "connect");
      c = std::move(opened).value();
    }
    auto out = fn(*c);
    if (!c->broken()) {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (pool_.size() < options().read_pool_size) pool_.push_back(std::move(c));
    }
    return out;
  }

  std::unique_ptr<connection> writer_;
  std::string uri_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<connection>> pool_;
};

}  // namespace

std::string redact_uri(const std::string& uri) {
  return sql::redact_uri(uri);
}

store_result<std::unique_ptr<event_store>> open_postgres_store(const std::string& uri,
                                                               const store_options& options) {
  auto fail = [&](const sql::db_error& e) {
    return store_error{store_errc::unavailable, "cannot open PostgreSQL event store at " +
                                                    redact_uri(uri) + ": " + e.message};
  };
  auto c = connection::connect(uri);
  if (!c) return fail(c.error());
  {
    auto tx = sql::scoped_transaction<connection>::begin(**c);
    if (!tx) return fail(tx.error());
    // Nodes starting together must not race on CREATE TABLE.
    if (auto locked = (*c)->query(lock_sql, {sql::sql_value{position_lock_key + 1}}); !locked)
      return fail(locked.error());
    if (auto created = (*c)->exec_script(postgres_schema_sql); !created)
      return fail(created.error());
    if (auto committed = tx->commit(); !committed) return fail(committed.error());
  }
  return std::unique_ptr<event_store>(
      std::make_unique<postgres_store>(std::move(c).value(), uri, options));
}

}  // namespace certctl::store
