#pragma once
/// The one PostgreSQL access layer, over libpqxx behind a pimpl: connect, statements with
/// `$1..$n` parameters prepared once per connection and cached by their text, transactions,
/// and one mapping of libpqxx exceptions into db_error. No libpqxx type or exception leaves
/// infra/sql. Used by the event store (infra/store) and the read models (database).
///
/// Parameters travel as text (NULL as SQL NULL); the server infers each one's type from
/// the statement. Integer columns (int2/int4/int8) come back as integers, everything else
/// as text.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "infra/sql/error.hpp"
#include "infra/sql/row.hpp"

namespace certctl::sql {

/// One connection. Not thread-safe: one user at a time. Outside begin()/commit() every
/// statement runs in its own autocommit transaction.
class pg_connection {
 public:
  /// Connects to a libpq URI; the error message carries the URI with its password redacted.
  static db_result<std::unique_ptr<pg_connection>> connect(const std::string& uri);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  /// One statement through the per-connection prepared-statement cache; returns the rows
  /// it changed.
  db_result<std::int64_t> exec(const std::string& sql, const params& p = {});
  /// One query through the prepared-statement cache; returns all of its rows.
  db_result<rows> query(const std::string& sql, const params& p = {});
  /// As exec/query, but not prepared: for statement text built per call (multi-row VALUES
  /// lists sized by a batch), which would only fill the cache.
  db_result<std::int64_t> exec_once(const std::string& sql, const params& p = {});
  db_result<rows> query_once(const std::string& sql, const params& p = {});
  /// Several `;`-separated statements without parameters (simple-query protocol; schema
  /// DDL). A failure aborts an open transaction.
  db_result<done> exec_script(const std::string& sql);

  db_result<done> begin();
  /// On failure the transaction is gone (rolled back) before the error returns.
  db_result<done> commit();
  /// Rolls back an open transaction; a no-op outside one.
  void rollback();
  bool in_transaction() const;

  /// True once the connection is unusable (lost, or a rollback failed); drop it then.
  bool broken() const;
  size_t cached_statements() const;

 private:
  struct impl;
  explicit pg_connection(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

/// Builds a PostgreSQL array literal (`{"a","b\"c"}`, `{1,2}`) for one `$n::text[]` or
/// `$n::bigint[]` parameter. A statement over a whole batch (`unnest($1::text[], ...)`,
/// `= ANY($1::text[])`) then keeps one text, and so one prepared plan, whatever the batch size.
class pg_array {
 public:
  pg_array& add(std::string_view text);
  pg_array& add(std::int64_t n);
  /// The literal; the builder is spent afterwards.
  std::string str() &&;

 private:
  std::string out_ = "{";
};

}  // namespace certctl::sql
