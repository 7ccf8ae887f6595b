#pragma once
/// The one SQLite access layer: an RAII connection opened with the flags and setup each user
/// needs, a per-connection cache of prepared statements, typed binding (NULL, int64, text,
/// blob), row access, transactions, and one mapping of SQLite result codes into db_error.
/// Used by the event store (infra/store), the read models (database) and the key store
/// (infra/crypto). sqlite3.h stays inside infra/sql's .cpp files.
///
///   auto c = sqlite_connection::open(path, options);       // options.setup: pragmas, schema
///   auto tx = scoped_transaction<sqlite_connection>::begin(**c);  // rolled back unless committed
///   auto s = (*c)->prepare("INSERT INTO t VALUES (?1, ?2)"); // prepared once, then cached
///   s->bind(1, id).bind(2, payload); s->run();              // reset when `s` goes out of scope
///   tx->commit();

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "infra/sql/error.hpp"
#include "infra/sql/row.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace certctl::sql {

/// Maps an SQLite result code (primary or extended) to its category: constraint ->
/// constraint; busy, locked, I/O, full, can't open, out of memory -> unavailable; the rest ->
/// query_failed.
db_errc classify_sqlite(int code);

struct sqlite_options {
  bool create = true;      ///< create the file when missing (the key store creates it itself)
  bool uri = false;        ///< the target may be an SQLite URI ("file:x?mode=memory&cache=shared")
  bool no_follow = false;  ///< refuse a symbolic link as the database file
  /// How long to wait for another connection's write lock before failing with "busy"; the
  /// log's writer holds it for the length of a group commit.
  int busy_timeout_ms = 10000;
  /// Statements run once right after opening (pragmas, schema); a failure fails open().
  std::string setup;
};

class sqlite_connection;

/// A prepared statement lent from its connection's cache. Binding is 1-based, columns
/// 0-based. Destroying it resets the statement (ending any read it holds open) and clears
/// its bindings; the statement itself stays cached. Must not outlive its connection. One SQL
/// text is lent at most once at a time per connection: preparing it again while a handle is
/// alive is refused rather than resetting that handle's statement under it.
class sqlite_statement {
 public:
  sqlite_statement(sqlite_statement&& other) noexcept;
  sqlite_statement& operator=(sqlite_statement&&) = delete;
  sqlite_statement(const sqlite_statement&) = delete;
  ~sqlite_statement();

  sqlite_statement& bind_null(int i);
  sqlite_statement& bind(int i, std::int64_t v);
  /// Text is copied into the statement, so a temporary is fine.
  sqlite_statement& bind(int i, std::string_view text);
  sqlite_statement& bind_blob(int i, const void* data, size_t size);
  /// Binds `p` to ?1..?n; refuses a count that differs from the statement's parameters.
  db_result<done> bind_all(const params& p);
  int parameter_count() const;

  /// Advances: true when a row is ready to read, false when the statement is done. A bind
  /// that failed earlier is reported here.
  db_result<bool> step();
  /// Steps to the end, ignoring rows; returns the number of rows the statement changed.
  db_result<std::int64_t> run();
  /// Steps to the end and returns every row as values.
  db_result<rows> all();

  int column_count() const;
  bool is_null(int i) const;
  bool is_integer(int i) const;
  std::int64_t int64(int i) const;
  /// nullopt for NULL; other types are converted by SQLite.
  std::optional<std::string> text(int i) const;
  std::vector<std::uint8_t> blob(int i) const;
  /// NULL, integer or text (a REAL or BLOB comes back as its text).
  sql_value value(int i) const;

 private:
  friend class sqlite_connection;
  sqlite_statement(sqlite_connection* c, sqlite3_stmt* s, bool* lent) : c_(c), s_(s), lent_(lent) {}
  sqlite_statement& bound(int rc);

  sqlite_connection* c_;
  sqlite3_stmt* s_;
  bool* lent_;       ///< the cache entry's "lent out" mark, cleared when this handle dies
  int bind_rc_ = 0;  ///< first failed bind, reported by step()
};

/// One SQLite connection. Not thread-safe: one user at a time.
class sqlite_connection {
 public:
  /// Opens `target` (a file path, or a URI with `options.uri`) and runs `options.setup`.
  static db_result<std::unique_ptr<sqlite_connection>> open(const std::string& target,
                                                            const sqlite_options& options = {});
  ~sqlite_connection();
  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;

  /// The cached statement for `sql` (prepared on first use), reset and unbound. One
  /// statement per text: trailing statements are refused, since SQLite would ignore them.
  db_result<sqlite_statement> prepare(const std::string& sql);
  /// Several `;`-separated statements without parameters (pragmas, schema DDL).
  db_result<done> exec_script(const std::string& sql);

  /// One statement with `p` bound, through the cache; returns rows changed.
  db_result<std::int64_t> exec(const std::string& sql, const params& p = {});
  /// One query with `p` bound, through the cache; returns all rows.
  db_result<rows> query(const std::string& sql, const params& p = {});

  /// BEGIN IMMEDIATE: takes the write lock up front, so a transaction that reads and then
  /// writes waits for another writer instead of failing busy halfway, and what it read
  /// (the log head) stays true until it commits.
  db_result<done> begin();
  /// On failure the transaction is rolled back before the error returns.
  db_result<done> commit();
  /// Rolls back an open transaction; a no-op outside one.
  void rollback();
  bool in_transaction() const;

  size_t cached_statements() const { return cache_.size(); }
  const std::string& target() const { return target_; }

  /// The connection's last error as a db_error: "sqlite <what>: <message>".
  db_error last_error(std::string_view what) const;

 private:
  sqlite_connection(sqlite3* db, std::string target) : db_(db), target_(std::move(target)) {}
  friend class sqlite_statement;

  sqlite3* db_;
  std::string target_;
  struct cached {
    sqlite3_stmt* stmt;
    bool lent = false;
  };
  // Node-based: an entry's address (which a lent handle keeps) survives rehashing.
  std::unordered_map<std::string, cached> cache_;
};

}  // namespace certctl::sql
