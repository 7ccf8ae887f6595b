#include "infra/sql/database.hpp"

#include <atomic>

#include "infra/sql/detail/session.hpp"
#include "infra/sql/url.hpp"

namespace certctl::sql {

// ---- pool ----------------------------------------------------------------------------------

namespace detail {

db_result<std::unique_ptr<session>> pool::acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      auto s = std::move(idle_.back());
      idle_.pop_back();
      return s;
    }
    ++open_;  // reserve the slot before connecting outside the lock
  }
  auto made = make_();
  if (!made) {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    cv_.notify_one();
  }
  return made;
}

void pool::release(std::unique_ptr<session> s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (s && !s->broken()) {
    idle_.push_back(std::move(s));
  } else {
    --open_;
  }
  cv_.notify_one();
}

db_result<done> pool::warm_up() {
  auto s = acquire();
  if (!s) return s.error();
  release(std::move(s).value());
  return done{};
}

}  // namespace detail

// ---- transaction ---------------------------------------------------------------------------

transaction::transaction(detail::pool* pool, std::unique_ptr<detail::session> s, sql_dialect d)
    : pool_(pool), session_(std::move(s)), dialect_(d), open_(true) {}

transaction::transaction(transaction&& other) noexcept
    : pool_(other.pool_),
      session_(std::move(other.session_)),
      dialect_(other.dialect_),
      open_(other.open_) {
  other.pool_ = nullptr;
  other.open_ = false;
}

transaction::~transaction() {
  if (open_) session_->rollback();
  finish();
}

void transaction::finish() {
  open_ = false;
  if (pool_ != nullptr && session_) pool_->release(std::move(session_));
  pool_ = nullptr;
}

namespace {
db_error closed_error() {
  return {db_errc::invalid_argument, "the transaction is already committed or rolled back"};
}
}  // namespace

db_result<std::int64_t> transaction::exec(const std::string& sql, const params& p) {
  if (!open_) return closed_error();
  return session_->exec(sql, p);
}

db_result<rows> transaction::query(const std::string& sql, const params& p) {
  if (!open_) return closed_error();
  return session_->query(sql, p);
}

db_result<done> transaction::exec_script(const std::string& sql) {
  if (!open_) return closed_error();
  return session_->exec_script(sql);
}

db_result<done> transaction::savepoint() {
  if (!open_) return closed_error();
  return session_->savepoint();
}

db_result<done> transaction::release_savepoint() {
  if (!open_) return closed_error();
  return session_->release_savepoint();
}

db_result<done> transaction::rollback_to_savepoint() {
  if (!open_) return closed_error();
  return session_->rollback_to_savepoint();
}

db_result<done> transaction::commit() {
  if (!open_) return closed_error();
  auto out = session_->commit();
  finish();
  return out;
}

void transaction::rollback() {
  if (!open_) return;
  session_->rollback();
  finish();
}

// ---- database -------------------------------------------------------------------------------

database::database(std::unique_ptr<detail::pool> pool, sql_dialect d)
    : pool_(std::move(pool)), dialect_(d) {}

database::~database() = default;

db_result<std::shared_ptr<database>> database::open(const std::string& store_url,
                                                    const database_options& options) {
  auto parsed = parse_db_url(store_url);
  if (!parsed) return parsed.error();
  std::unique_ptr<detail::pool> p;
  sql_dialect dialect = sql_dialect::sqlite;
  switch (parsed->k) {
    case db_url::kind::memory: {
      // A named shared-cache database, unique per database, lives as long as one connection
      // is open; a pool of one keeps exactly that connection and serialises its users. The
      // name only needs to be unique within the process (shared cache is per process).
      static std::atomic<std::uint64_t> next_memory_db{0};
      const std::string uri =
          "file:certctl_mem_" + std::to_string(++next_memory_db) + "?mode=memory&cache=shared";
      p = std::make_unique<detail::pool>([uri] { return detail::open_sqlite_session(uri); }, 1);
      break;
    }
    case db_url::kind::sqlite: {
      const std::string path = parsed->location;
      p = std::make_unique<detail::pool>([path] { return detail::open_sqlite_session(path); },
                                         options.pool_size);
      break;
    }
    case db_url::kind::postgres: {
      const std::string uri = parsed->location;
      p = std::make_unique<detail::pool>([uri] { return detail::open_postgres_session(uri); },
                                         options.pool_size);
      dialect = sql_dialect::postgres;
      break;
    }
  }
  if (auto warmed = p->warm_up(); !warmed) return warmed.error();
  return std::shared_ptr<database>(new database(std::move(p), dialect));
}

db_result<std::int64_t> database::exec(const std::string& sql, const params& p) {
  auto s = pool_->acquire();
  if (!s) return s.error();
  auto out = (*s)->exec(sql, p);
  pool_->release(std::move(s).value());
  return out;
}

db_result<rows> database::query(const std::string& sql, const params& p) {
  auto s = pool_->acquire();
  if (!s) return s.error();
  auto out = (*s)->query(sql, p);
  pool_->release(std::move(s).value());
  return out;
}

db_result<transaction> database::begin(durability d) {
  auto s = pool_->acquire();
  if (!s) return s.error();
  if (auto begun = (*s)->begin(d); !begun) {
    pool_->release(std::move(s).value());
    return begun.error();
  }
  return transaction(pool_.get(), std::move(s).value(), dialect_);
}

}  // namespace certctl::sql
