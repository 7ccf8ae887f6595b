// The read-model session on SQLite: sqlite_connection (with its statement cache) plus the
// savepoint bookkeeping the database API promises.

#include "infra/sql/detail/session.hpp"
#include "infra/sql/sqlite.hpp"

namespace certctl::sql::detail {
namespace {

class sqlite_session final : public session {
 public:
  explicit sqlite_session(std::unique_ptr<sqlite_connection> c) : c_(std::move(c)) {}

  db_result<std::int64_t> exec(const std::string& sql, const params& p) override {
    return c_->exec(sql, p);
  }
  db_result<rows> query(const std::string& sql, const params& p) override {
    return c_->query(sql, p);
  }
  db_result<done> exec_script(const std::string& sql) override { return c_->exec_script(sql); }

  // synchronous is a property of the connection, set outside a transaction: a derived
  // transaction sets NORMAL before BEGIN and FULL again once it has ended.
  db_result<done> begin(durability d) override {
    if (d == durability::derived) {
      if (auto set = c_->exec_script("PRAGMA synchronous=NORMAL"); !set) return set.error();
      relaxed_ = true;
    }
    auto begun = c_->begin();
    if (!begun) restore_durability();
    return begun;
  }
  db_result<done> commit() override {
    savepoints_ = 0;
    auto out = c_->commit();
    restore_durability();
    return out;
  }
  void rollback() override {
    savepoints_ = 0;
    c_->rollback();
    restore_durability();
  }
  db_result<done> savepoint() override {
    auto out = c_->exec_script("SAVEPOINT sp" + std::to_string(savepoints_ + 1));
    if (out) ++savepoints_;
    return out;
  }
  db_result<done> release_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    auto out = c_->exec_script("RELEASE SAVEPOINT sp" + std::to_string(savepoints_));
    if (out) --savepoints_;
    return out;
  }
  db_result<done> rollback_to_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    // ROLLBACK TO keeps the savepoint open; the caller still releases it.
    return c_->exec_script("ROLLBACK TO SAVEPOINT sp" + std::to_string(savepoints_));
  }
  /// A connection that could not be set back to FULL must not serve another user.
  bool broken() const override { return broken_; }

 private:
  static db_error no_savepoint() { return {db_errc::invalid_argument, "no savepoint is open"}; }

  void restore_durability() {
    if (!relaxed_) return;
    relaxed_ = false;
    if (!c_->exec_script("PRAGMA synchronous=FULL")) broken_ = true;
  }

  std::unique_ptr<sqlite_connection> c_;
  int savepoints_ = 0;
  bool relaxed_ = false;
  bool broken_ = false;
};

}  // namespace

db_result<std::unique_ptr<session>> open_sqlite_session(const std::string& target) {
  sqlite_options options;
  options.uri = true;
  // WAL lets the query API read while the projector writes; FULL matches the log's
  // durability. In-memory databases ("file:...?mode=memory") have no journal to set.
  // The file is the event log's, whose store copies the shared WAL back with a checkpoint
  // thread and its writer's auto-checkpoint at 16,384 pages (infra/store/sqlite_store.cpp).
  // With SQLite's default of 1,000 pages every projector commit ran a checkpoint of its own
  // (the WAL of a busy log is always past 1,000 pages): 3 % of the server's CPU during
  // issuance, copying pages the checkpoint thread copies anyway. The same bound keeps a WAL
  // written only through this API from growing without limit.
  if (target.rfind("file:", 0) != 0)
    options.setup =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=16384;";
  auto c = sqlite_connection::open(target, options);
  if (!c) return c.error();
  return std::unique_ptr<session>(std::make_unique<sqlite_session>(std::move(c).value()));
}

}  // namespace certctl::sql::detail
