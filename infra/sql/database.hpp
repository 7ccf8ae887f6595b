#pragma once
/// The read-model database (DESIGN §6): the same database as the event log (SQLite file or
/// PostgreSQL), reached through a small pooled API with positional parameters. Built on the
/// connection layers in sqlite.hpp and postgres.hpp.
///
/// SQL dialect rules for code written against this API (one text runs on both backends):
///  - placeholders are `?` (translated to $1..$n for PostgreSQL, outside quoted text);
///  - upserts are `INSERT ... ON CONFLICT (...) DO UPDATE SET c = excluded.c`;
///  - integer columns are BIGINT, text columns TEXT; no backend-specific functions.
/// `memory:` store URLs get a private in-memory SQLite database (for unit tests).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "infra/sql/error.hpp"
#include "infra/sql/row.hpp"

namespace certctl::sql {

enum class sql_dialect { sqlite, postgres };

/// How a transaction's commit reaches the disk.
enum class durability {
  /// The commit is on disk when commit() returns (SQLite `synchronous=FULL`, PostgreSQL
  /// `synchronous_commit` as configured). For state that exists nowhere else.
  full,
  /// For state derived from the event log (the projector's read models and checkpoint):
  /// the commit is visible to every connection at once but may reach the disk only with the
  /// next full commit of any connection (SQLite WAL `synchronous=NORMAL`, PostgreSQL
  /// `SET LOCAL synchronous_commit = off`). Both logs are written in order, so a crash loses
  /// at most a suffix of such commits, never one that a later full commit follows, and the
  /// database stays consistent: the lost read-model rows and their checkpoint go together, and
  /// the projector projects those events again.
  derived,
};

/// Rewrites `?` placeholders for the dialect (`$1..$n` for PostgreSQL); `?` inside single- or
/// double-quoted text is left alone.
std::string translate_placeholders(std::string_view sql, sql_dialect d);

namespace detail {
class session;
class pool;
}  // namespace detail

/// A database transaction on one pooled connection. Rolled back on destruction unless
/// committed. Must not outlive the database it came from. Not thread-safe.
class transaction {
 public:
  transaction(transaction&& other) noexcept;
  transaction& operator=(transaction&&) = delete;
  transaction(const transaction&) = delete;
  ~transaction();

  /// Runs one statement (several are refused); returns the number of rows it changed.
  db_result<std::int64_t> exec(const std::string& sql, const params& p = {});
  /// Runs one query and returns all of its rows.
  db_result<rows> query(const std::string& sql, const params& p = {});
  /// Runs several `;`-separated statements without parameters (schema DDL).
  db_result<done> exec_script(const std::string& sql);

  /// Nested rollback points; a failed statement rolled back to its savepoint leaves the rest
  /// of the transaction usable on both backends (PostgreSQL would otherwise abort it).
  db_result<done> savepoint();
  db_result<done> release_savepoint();
  db_result<done> rollback_to_savepoint();

  db_result<done> commit();
  void rollback();
  sql_dialect dialect() const { return dialect_; }

 private:
  friend class database;
  transaction(detail::pool* pool, std::unique_ptr<detail::session> s, sql_dialect d);
  void finish();

  detail::pool* pool_ = nullptr;
  std::unique_ptr<detail::session> session_;
  sql_dialect dialect_;
  bool open_ = false;
};

struct database_options {
  /// Most connections open at once; callers beyond it wait for one to be returned.
  /// Always 1 for `memory:` (one shared in-memory database behind one connection).
  size_t pool_size = 8;
};

/// Thread-safe: every call borrows a connection from the pool for its duration.
class database {
 public:
  /// Opens the read database that belongs to the log at `store_url` (see url.hpp).
  static db_result<std::shared_ptr<database>> open(const std::string& store_url,
                                                   const database_options& options = {});
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  /// Autocommit forms for one statement.
  db_result<std::int64_t> exec(const std::string& sql, const params& p = {});
  db_result<rows> query(const std::string& sql, const params& p = {});

  db_result<transaction> begin(durability d = durability::full);
  sql_dialect dialect() const { return dialect_; }

 private:
  database(std::unique_ptr<detail::pool> pool, sql_dialect d);

  std::unique_ptr<detail::pool> pool_;
  sql_dialect dialect_;
};

}  // namespace certctl::sql
