#include "infra/sql/sqlite.hpp"

#include <sqlite3.h>

#include <climits>
#include <cstring>

namespace certctl::sql {

db_errc classify_sqlite(int code) {
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

// ---- statement -----------------------------------------------------------------------------

sqlite_statement::sqlite_statement(sqlite_statement&& other) noexcept
    : c_(other.c_),
      s_(std::exchange(other.s_, nullptr)),
      lent_(std::exchange(other.lent_, nullptr)),
      bind_rc_(other.bind_rc_) {}

sqlite_statement::~sqlite_statement() {
  if (s_ == nullptr) return;
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  *lent_ = false;
}

sqlite_statement& sqlite_statement::bound(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

sqlite_statement& sqlite_statement::bind_null(int i) {
  return bound(sqlite3_bind_null(s_, i));
}

sqlite_statement& sqlite_statement::bind(int i, std::int64_t v) {
  return bound(sqlite3_bind_int64(s_, i, v));
}

sqlite_statement& sqlite_statement::bind(int i, std::string_view text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) return bound(SQLITE_TOOBIG);
  return bound(
      sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
}

sqlite_statement& sqlite_statement::bind_blob(int i, const void* data, size_t size) {
  if (size > static_cast<size_t>(INT_MAX)) return bound(SQLITE_TOOBIG);
  // A zero-length blob with a null pointer would bind NULL; an empty blob is not NULL.
  static const char empty = 0;
  return bound(sqlite3_bind_blob(s_, i, size == 0 ? &empty : data, static_cast<int>(size),
                                 SQLITE_TRANSIENT));
}

int sqlite_statement::parameter_count() const {
  return sqlite3_bind_parameter_count(s_);
}

db_result<done> sqlite_statement::bind_all(const params& p) {
  if (static_cast<size_t>(parameter_count()) != p.size())
    return db_error{db_errc::invalid_argument,
                    "sqlite: statement takes " + std::to_string(parameter_count()) +
                        " parameters, got " + std::to_string(p.size()) + ": " + sqlite3_sql(s_)};
  for (size_t i = 0; i < p.size(); ++i) {
    const int idx = static_cast<int>(i + 1);
    if (const auto* n = std::get_if<std::int64_t>(&p[i])) {
      bind(idx, *n);
    } else if (const auto* t = std::get_if<std::string>(&p[i])) {
      bind(idx, std::string_view(*t));
    } else {
      bind_null(idx);
    }
  }
  return done{};
}

db_result<bool> sqlite_statement::step() {
  if (bind_rc_ != SQLITE_OK)
    return db_error{classify_sqlite(bind_rc_) == db_errc::unavailable ? db_errc::unavailable
                                                                      : db_errc::invalid_argument,
                    std::string("sqlite bind: ") + sqlite3_errstr(bind_rc_)};
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Read the message before the reset, which may replace it.
  auto err = c_->last_error("step");
  sqlite3_reset(s_);
  return err;
}

db_result<std::int64_t> sqlite_statement::run() {
  for (;;) {
    auto more = step();
    if (!more) return more.error();
    if (!*more) break;
  }
  return static_cast<std::int64_t>(sqlite3_changes(c_->db_));
}

db_result<rows> sqlite_statement::all() {
  rows out;
  const int n = column_count();
  for (;;) {
    auto more = step();
    if (!more) return more.error();
    if (!*more) break;
    std::vector<sql_value> cols;
    cols.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) cols.push_back(value(i));
    out.emplace_back(std::move(cols));
  }
  return out;
}

int sqlite_statement::column_count() const {
  return sqlite3_column_count(s_);
}

bool sqlite_statement::is_null(int i) const {
  return sqlite3_column_type(s_, i) == SQLITE_NULL;
}

bool sqlite_statement::is_integer(int i) const {
  return sqlite3_column_type(s_, i) == SQLITE_INTEGER;
}

std::int64_t sqlite_statement::int64(int i) const {
  return sqlite3_column_int64(s_, i);
}

std::optional<std::string> sqlite_statement::text(int i) const {
  if (sqlite3_column_type(s_, i) == SQLITE_NULL) return std::nullopt;
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
  return std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(s_, i)));
}

std::vector<std::uint8_t> sqlite_statement::blob(int i) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
  if (p == nullptr) return {};
  return std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(s_, i));
}

sql_value sqlite_statement::value(int i) const {
  switch (sqlite3_column_type(s_, i)) {
    case SQLITE_NULL:
      return std::monostate{};
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(s_, i));
    default:
      return *text(i);
  }
}

// ---- connection ----------------------------------------------------------------------------

db_result<std::unique_ptr<sqlite_connection>> sqlite_connection::open(
    const std::string& target, const sqlite_options& options) {
  // NOMUTEX: a connection has one user at a time (its owner serialises), so SQLite's own
  // per-connection mutex would only cost time.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  if (options.uri) flags |= SQLITE_OPEN_URI;
  if (options.no_follow) flags |= SQLITE_OPEN_NOFOLLOW;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(target.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return db_error{db_errc::unavailable, "cannot open SQLite database " + target + ": " + msg};
  }
  std::unique_ptr<sqlite_connection> c(new sqlite_connection(db, target));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  if (!options.setup.empty()) {
    if (auto set = c->exec_script(options.setup); !set) return set.error();
  }
  return c;
}

sqlite_connection::~sqlite_connection() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  sqlite3_close_v2(db_);
}

db_error sqlite_connection::last_error(std::string_view what) const {
  return {classify_sqlite(sqlite3_extended_errcode(db_)),
          "sqlite " + std::string(what) + ": " + sqlite3_errmsg(db_)};
}

db_result<sqlite_statement> sqlite_connection::prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    cached& entry = it->second;
    if (entry.lent)
      return db_error{db_errc::invalid_argument,
                      "sqlite: statement is already in use on this connection: " + sql};
    entry.lent = true;
    return sqlite_statement(this, entry.stmt, &entry.lent);
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  // PERSISTENT: these statements live as long as the connection; SQLite allocates them
  // outside its lookaside pool.
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()) + 1,
                         SQLITE_PREPARE_PERSISTENT, &stmt, &tail) != SQLITE_OK) {
    auto err = last_error("prepare");
    err.message += " in: " + sql;
    return err;
  }
  if (stmt == nullptr)  // only whitespace or comments
    return db_error{db_errc::invalid_argument, "sqlite: no statement in: " + sql};
  // SQLite would silently ignore a second statement; PostgreSQL refuses it. Refuse here too.
  if (tail != nullptr && tail[std::strspn(tail, " \t\r\n;")] != '\0') {
    sqlite3_finalize(stmt);
    return db_error{db_errc::invalid_argument,
                    "one statement per call (use exec_script for several): " + sql};
  }
  cached& entry = cache_.emplace(sql, cached{stmt}).first->second;
  entry.lent = true;
  return sqlite_statement(this, stmt, &entry.lent);
}

db_result<done> sqlite_connection::exec_script(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg != nullptr ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return db_error{classify_sqlite(sqlite3_extended_errcode(db_)), "sqlite: " + text};
  }
  return done{};
}

db_result<std::int64_t> sqlite_connection::exec(const std::string& sql, const params& p) {
  auto s = prepare(sql);
  if (!s) return s.error();
  if (auto b = s->bind_all(p); !b) return b.error();
  return s->run();
}

db_result<rows> sqlite_connection::query(const std::string& sql, const params& p) {
  auto s = prepare(sql);
  if (!s) return s.error();
  if (auto b = s->bind_all(p); !b) return b.error();
  return s->all();
}

db_result<done> sqlite_connection::begin() {
  auto s = prepare("BEGIN IMMEDIATE");
  if (!s) return s.error();
  if (auto r = s->run(); !r) return r.error();
  return done{};
}

db_result<done> sqlite_connection::commit() {
  db_result<done> out = done{};
  if (auto s = prepare("COMMIT"); !s) {
    out = s.error();
  } else if (auto r = s->run(); !r) {
    out = r.error();
  }
  // A failed COMMIT (busy, I/O) can leave the transaction open; never hand it back open.
  if (!out) rollback();
  return out;
}

void sqlite_connection::rollback() {
  if (!in_transaction()) return;
  if (auto s = prepare("ROLLBACK")) (void)s->run();
}

bool sqlite_connection::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

}  // namespace certctl::sql
