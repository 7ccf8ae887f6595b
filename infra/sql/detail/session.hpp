#pragma once
/// Backend connections behind database, and the pool that lends them out. Internal.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "infra/sql/database.hpp"

namespace certctl::sql::detail {

/// One database connection. Not thread-safe; the pool gives it to one user at a time.
/// SQL arrives with `?` placeholders; each backend translates as it needs.
class session {
 public:
  virtual ~session() = default;
  virtual db_result<std::int64_t> exec(const std::string& sql, const params& p) = 0;
  virtual db_result<rows> query(const std::string& sql, const params& p) = 0;
  virtual db_result<done> exec_script(const std::string& sql) = 0;
  /// A `derived` transaction restores the connection's full durability when it ends, so the
  /// next user of the pooled connection commits durably again.
  virtual db_result<done> begin(durability d) = 0;
  virtual db_result<done> commit() = 0;
  virtual void rollback() = 0;
  virtual db_result<done> savepoint() = 0;
  virtual db_result<done> release_savepoint() = 0;
  virtual db_result<done> rollback_to_savepoint() = 0;
  /// True once the connection is unusable; the pool then closes it instead of reusing it.
  virtual bool broken() const = 0;
};

/// `target` is a file path or an SQLite URI ("file:...?mode=memory&cache=shared").
db_result<std::unique_ptr<session>> open_sqlite_session(const std::string& target);
db_result<std::unique_ptr<session>> open_postgres_session(const std::string& uri);

/// A bounded set of sessions. acquire() blocks while all `max` are lent out.
class pool {
 public:
  using factory = std::function<db_result<std::unique_ptr<session>>()>;
  pool(factory make, size_t max) : make_(std::move(make)), max_(max == 0 ? 1 : max) {}

  db_result<std::unique_ptr<session>> acquire();
  void release(std::unique_ptr<session> s);
  /// Opens one session now, so a bad URL fails at open and an in-memory database exists
  /// for as long as the pool does (SQLite frees it with its last connection).
  db_result<done> warm_up();

 private:
  factory make_;
  size_t max_;
  size_t open_ = 0;
  std::vector<std::unique_ptr<session>> idle_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace certctl::sql::detail
