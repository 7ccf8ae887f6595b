// SQLite connection for database: prepared-statement cache, native `?` placeholders.

#include <sqlite3.h>

#include <cstring>
#include <map>

#include "infra/sql/detail/session.hpp"

namespace certctl::sql::detail {
namespace {

db_errc classify(int code) {
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT:
      return db_errc::constraint;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return db_errc::unavailable;
    default:
      return db_errc::query_failed;
  }
}

class sqlite_session final : public session {
 public:
  explicit sqlite_session(sqlite3* db) : db_(db) {}
  ~sqlite_session() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  db_result<std::int64_t> exec(const std::string& sql, const params& p) override {
    auto s = prepare(sql, p);
    if (!s) return s.error();
    int rc;
    while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return fail(*s, "exec");
    sqlite3_reset(*s);
    return static_cast<std::int64_t>(sqlite3_changes(db_));
  }

  db_result<rows> query(const std::string& sql, const params& p) override {
    auto s = prepare(sql, p);
    if (!s) return s.error();
    rows out;
    const int n = sqlite3_column_count(*s);
    int rc;
    while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
      std::vector<sql_value> cols;
      cols.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) cols.push_back(column(*s, i));
      out.emplace_back(std::move(cols));
    }
    if (rc != SQLITE_DONE) return fail(*s, "query");
    sqlite3_reset(*s);
    return out;
  }

  db_result<done> exec_script(const std::string& sql) override {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg ? msg : sqlite3_errmsg(db_);
      sqlite3_free(msg);
      return db_error{classify(sqlite3_extended_errcode(db_)), "sqlite: " + text};
    }
    return done{};
  }

  db_result<done> begin() override {
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY instead of waiting when another writer got in between.
    return exec_script("BEGIN IMMEDIATE");
  }
  db_result<done> commit() override {
    savepoints_ = 0;
    auto out = exec_script("COMMIT");
    if (!out) rollback();
    return out;
  }
  void rollback() override {
    savepoints_ = 0;
    if (!sqlite3_get_autocommit(db_)) exec_script("ROLLBACK");
  }
  db_result<done> savepoint() override {
    auto out = exec_script("SAVEPOINT sp" + std::to_string(savepoints_ + 1));
    if (out) ++savepoints_;
    return out;
  }
  db_result<done> release_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    auto out = exec_script("RELEASE SAVEPOINT sp" + std::to_string(savepoints_));
    if (out) --savepoints_;
    return out;
  }
  db_result<done> rollback_to_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    // ROLLBACK TO keeps the savepoint open; the caller still releases it.
    return exec_script("ROLLBACK TO SAVEPOINT sp" + std::to_string(savepoints_));
  }
  bool broken() const override { return false; }

 private:
  static db_error no_savepoint() { return {db_errc::invalid_argument, "no savepoint is open"}; }

  db_error fail(sqlite3_stmt* s, const char* what) {
    const int code = sqlite3_extended_errcode(db_);
    db_error err{classify(code), std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_)};
    sqlite3_reset(s);
    return err;
  }

  static sql_value column(sqlite3_stmt* s, int i) {
    switch (sqlite3_column_type(s, i)) {
      case SQLITE_NULL:
        return std::monostate{};
      case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(s, i));
      default: {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(s, i)));
      }
    }
  }

  /// A cached statement with `p` bound, ready to step.
  db_result<sqlite3_stmt*> prepare(const std::string& sql, const params& p) {
    sqlite3_stmt* stmt = nullptr;
    if (auto it = cache_.find(sql); it != cache_.end()) {
      stmt = it->second;
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      const char* tail = nullptr;
      if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, &tail) != SQLITE_OK)
        return db_error{classify(sqlite3_extended_errcode(db_)),
                        std::string("sqlite prepare: ") + sqlite3_errmsg(db_) + " in: " + sql};
      // SQLite would silently ignore a second statement; PostgreSQL refuses it. Refuse here too.
      if (tail != nullptr && tail[std::strspn(tail, " \t\r\n;")] != '\0') {
        sqlite3_finalize(stmt);
        return db_error{db_errc::invalid_argument,
                        "one statement per call (use exec_script for several): " + sql};
      }
      cache_.emplace(sql, stmt);
    }
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != p.size())
      return db_error{db_errc::invalid_argument,
                      "sqlite: statement takes " +
                          std::to_string(sqlite3_bind_parameter_count(stmt)) + " parameters, got " +
                          std::to_string(p.size()) + ": " + sql};
    for (size_t i = 0; i < p.size(); ++i) {
      const int idx = static_cast<int>(i + 1);
      if (const auto* n = std::get_if<std::int64_t>(&p[i])) {
        sqlite3_bind_int64(stmt, idx, *n);
      } else if (const auto* t = std::get_if<std::string>(&p[i])) {
        sqlite3_bind_text(stmt, idx, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, idx);
      }
    }
    return stmt;
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
  int savepoints_ = 0;
};

}  // namespace

db_result<std::unique_ptr<session>> open_sqlite_session(const std::string& target) {
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  if (sqlite3_open_v2(target.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return db_error{db_errc::unavailable, "cannot open SQLite database " + target + ": " + msg};
  }
  auto s = std::make_unique<sqlite_session>(db);
  // The log's writer holds the file lock during its group commits; wait rather than fail.
  sqlite3_busy_timeout(db, 10000);
  // WAL lets the query API read while the projector writes; FULL matches the log's durability.
  if (target.rfind("file:", 0) != 0) {
    if (auto r = s->exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !r)
      return r.error();
  }
  return std::unique_ptr<session>(std::move(s));
}

}  // namespace certctl::sql::detail
