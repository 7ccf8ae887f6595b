// The read-model session on PostgreSQL: pg_connection plus `?` placeholder translation and
// savepoint bookkeeping.

#include "infra/sql/detail/session.hpp"
#include "infra/sql/postgres.hpp"

namespace certctl::sql::detail {
namespace {

class postgres_session final : public session {
 public:
  explicit postgres_session(std::unique_ptr<pg_connection> c) : c_(std::move(c)) {}

  // Unprepared (exec_once/query_once), as before this layer existed: read-model SQL includes
  // statements built per call, and a projection rebuild may recreate a table with other
  // columns, which a cached plan would refuse ("cached plan must not change result type").
  db_result<std::int64_t> exec(const std::string& sql, const params& p) override {
    return c_->exec_once(translate_placeholders(sql, sql_dialect::postgres), p);
  }
  db_result<rows> query(const std::string& sql, const params& p) override {
    return c_->query_once(translate_placeholders(sql, sql_dialect::postgres), p);
  }
  /// Several statements need the simple-query protocol, which aborts the whole transaction
  /// if one fails; scripts are schema DDL, where that is what we want anyway.
  db_result<done> exec_script(const std::string& sql) override { return c_->exec_script(sql); }

  db_result<done> begin(durability d) override {
    if (auto begun = c_->begin(); !begun) return begun;
    // SET LOCAL ends with the transaction: nothing to restore afterwards.
    if (d == durability::derived) {
      if (auto set = statement("SET LOCAL synchronous_commit = off"); !set) {
        c_->rollback();  // the pool gets the connection back outside a transaction
        return set.error();
      }
    }
    return done{};
  }
  db_result<done> commit() override {
    savepoints_ = 0;
    return c_->commit();
  }
  void rollback() override {
    savepoints_ = 0;
    c_->rollback();
  }

  // Plain SAVEPOINT statements rather than pqxx::subtransaction: libpqxx 6 sends a
  // subtransaction's SAVEPOINT lazily and exec_params() skips it, so writes escaped it.
  db_result<done> savepoint() override {
    auto out = statement("SAVEPOINT sp" + std::to_string(savepoints_ + 1));
    if (out) ++savepoints_;
    return out;
  }
  db_result<done> release_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    auto out = statement("RELEASE SAVEPOINT sp" + std::to_string(savepoints_));
    if (out) --savepoints_;
    return out;
  }
  db_result<done> rollback_to_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    // Also clears PostgreSQL's "transaction is aborted" state after a failed statement;
    // the savepoint stays open for the caller to release, as on SQLite.
    return statement("ROLLBACK TO SAVEPOINT sp" + std::to_string(savepoints_));
  }

  bool broken() const override { return c_->broken(); }

 private:
  /// One statement that leaves the transaction usable if it fails.
  db_result<done> statement(const std::string& sql) {
    auto r = c_->exec_once(sql);
    if (!r) return r.error();
    return done{};
  }
  static db_error no_savepoint() { return {db_errc::invalid_argument, "no savepoint is open"}; }

  std::unique_ptr<pg_connection> c_;
  int savepoints_ = 0;
};

}  // namespace

db_result<std::unique_ptr<session>> open_postgres_session(const std::string& uri) {
  auto c = pg_connection::connect(uri);
  if (!c) return c.error();
  return std::unique_ptr<session>(std::make_unique<postgres_session>(std::move(c).value()));
}

}  // namespace certctl::sql::detail
