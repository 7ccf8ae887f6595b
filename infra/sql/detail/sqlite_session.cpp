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

  db_result<done> begin() override { return c_->begin(); }
  db_result<done> commit() override {
    savepoints_ = 0;
    return c_->commit();
  }
  void rollback() override {
    savepoints_ = 0;
    c_->rollback();
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
  bool broken() const override { return false; }

 private:
  static db_error no_savepoint() { return {db_errc::invalid_argument, "no savepoint is open"}; }

  std::unique_ptr<sqlite_connection> c_;
  int savepoints_ = 0;
};

}  // namespace

db_result<std::unique_ptr<session>> open_sqlite_session(const std::string& target) {
  sqlite_options options;
  options.uri = true;
  // WAL lets the query API read while the projector writes; FULL matches the log's
  // durability. In-memory databases ("file:...?mode=memory") have no journal to set.
  if (target.rfind("file:", 0) != 0)
    options.setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
  auto c = sqlite_connection::open(target, options);
  if (!c) return c.error();
  return std::unique_ptr<session>(std::make_unique<sqlite_session>(std::move(c).value()));
}

}  // namespace certctl::sql::detail
