#include "infra/sql/database.hpp"

#include <charconv>
#include <ostream>

#include "infra/crypto/random.hpp"
#include "infra/store/store_url.hpp"
#include "infra/sql/detail/session.hpp"

namespace certctl::sql {

const char* to_string(db_errc c) {
  switch (c) {
    case db_errc::unavailable:
      return "unavailable";
    case db_errc::constraint:
      return "constraint";
    case db_errc::query_failed:
      return "query_failed";
    case db_errc::invalid_argument:
      return "invalid_argument";
    case db_errc::bad_url:
      return "bad_url";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, db_errc c) {
  return os << to_string(c);
}

std::optional<std::string> row::text(size_t i) const {
  const auto& v = columns_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return std::nullopt;
}

std::optional<std::int64_t> row::int64(size_t i) const {
  const auto& v = columns_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    const char* end = s->data() + s->size();
    auto [p, ec] = std::from_chars(s->data(), end, out);
    if (ec == std::errc() && p == end && !s->empty()) return out;
  }
  return std::nullopt;
}

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
  auto parsed = store::parse_store_url(store_url);
  if (!parsed) return db_error{db_errc::bad_url, parsed.error().message};
  std::unique_ptr<detail::pool> p;
  sql_dialect dialect = sql_dialect::sqlite;
  switch (parsed->k) {
    case store::store_url::kind::memory: {
      // A named shared-cache database, unique per database, lives as long as one connection
      // is open; a pool of one keeps exactly that connection and serialises its users.
      const std::string uri =
          "file:certctl_mem_" + crypto::random_hex(8) + "?mode=memory&cache=shared";
      p = std::make_unique<detail::pool>([uri] { return detail::open_sqlite_session(uri); }, 1);
      break;
    }
    case store::store_url::kind::sqlite: {
      const std::string path = parsed->location;
      p = std::make_unique<detail::pool>([path] { return detail::open_sqlite_session(path); },
                                         options.pool_size);
      break;
    }
    case store::store_url::kind::postgres: {
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

db_result<transaction> database::begin() {
  auto s = pool_->acquire();
  if (!s) return s.error();
  if (auto begun = (*s)->begin(); !begun) {
    pool_->release(std::move(s).value());
    return begun.error();
  }
  return transaction(pool_.get(), std::move(s).value(), dialect_);
}

}  // namespace certctl::sql
