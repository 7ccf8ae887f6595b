#include "infra/crypto/detail/sealed_db.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "infra/crypto/secure_file.hpp"

namespace certctl::crypto::detail {

namespace {

struct db_close {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct stmt_finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_close>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalize>;

crypto_error db_error(sqlite3* db, const std::string& path, std::string_view what) {
  return crypto_error{"key store " + path + ": " + std::string(what) + ": " +
                      (db != nullptr ? sqlite3_errmsg(db) : "out of memory")};
}

/// Creates the file owner-only before SQLite sees it: SQLite would create it with 0644 minus
/// the umask, and gives the -wal and -shm files the mode of the database file.
crypto_result<done> create_private_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  const bool created = fd >= 0;
  if (fd < 0 && errno == EEXIST) fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return crypto_error{"key store: open " + path + ": " + std::system_category().message(errno)};
  struct stat st {};
  int err = 0;
  if (::fstat(fd, &st) != 0) err = errno;
  if (err == 0 && !S_ISREG(st.st_mode)) err = EINVAL;
  // Also narrows a database an older version (or a careless copy) left readable by others.
  if (err == 0 && (st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) err = errno;
  ::close(fd);
  if (err != 0)
    return crypto_error{"key store: " + path + ": " + std::system_category().message(err)};
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    if (file_exists(side)) ::chmod(side.c_str(), 0600);
  }
  if (!created) return done{};
  // The new directory entry must survive a power cut as much as the rows written into it.
  const auto dir = std::filesystem::path(path).parent_path();
  return sync_directory(dir.empty() ? std::string(".") : dir.string());
}

crypto_result<db_ptr> open_connection(const std::string& path) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time, serialised by sealed_db itself.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK) return db_error(raw, path, "open");
  sqlite3_busy_timeout(db.get(), 10000);  // another process briefly holding the write lock
  return db;
}

crypto_result<stmt_ptr> prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK)
    return db_error(db, path, "prepare");
  return stmt_ptr(raw);
}

/// Steps a statement that returns no rows (or whose rows are ignored) and readies it for reuse.
int run(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  while (rc == SQLITE_ROW) rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc;
}

}  // namespace

struct sealed_db::state {
  /// One caller's writes, queued until a committer takes them.
  struct pending {
    std::vector<write> writes;
    bool done = false;
    std::optional<crypto_error> error;
  };

  // Write side: used only by the caller that holds the committer role.
  db_ptr writer;
  stmt_ptr begin, commit, rollback, upsert, insert_new, erase;

  // Read side: its own connection, so reads never wait for a commit's fsync (WAL readers see
  // the last committed state).
  mutable std::mutex read_mu;
  db_ptr reader;
  stmt_ptr select;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<pending*> queue;  ///< guarded by mu
  bool committing = false;      ///< guarded by mu

  /// One transaction for the whole batch; nullopt on success.
  std::optional<crypto_error> commit_batch(const std::vector<pending*>& batch,
                                           const std::string& path) {
    sqlite3* db = writer.get();
    if (run(begin.get()) != SQLITE_DONE) return db_error(db, path, "begin");
    for (const pending* p : batch) {
      for (const write& w : p->writes) {
        sqlite3_stmt* s = w.kind == write_kind::upsert       ? upsert.get()
                          : w.kind == write_kind::insert_new ? insert_new.get()
                                                             : erase.get();
        sqlite3_bind_text(s, 1, w.id.data(), static_cast<int>(w.id.size()), SQLITE_STATIC);
        if (w.kind != write_kind::erase)
          sqlite3_bind_blob(s, 2, w.sealed.data(), static_cast<int>(w.sealed.size()),
                            SQLITE_STATIC);
        if (run(s) != SQLITE_DONE) {
          auto e = db_error(db, path, "write \"" + w.id + "\"");
          run(rollback.get());
          return e;
        }
      }
    }
    if (run(commit.get()) != SQLITE_DONE) {
      auto e = db_error(db, path, "commit");
      run(rollback.get());  // a failed COMMIT may leave the transaction open
      return e;
    }
    return std::nullopt;
  }
};

sealed_db::sealed_db(std::string path, std::unique_ptr<state> s)
    : path_(std::move(path)), s_(std::move(s)) {}

sealed_db::~sealed_db() = default;

crypto_result<std::unique_ptr<sealed_db>> sealed_db::open(const std::string& path) {
  if (auto c = create_private_file(path); !c) return c.error();
  auto s = std::make_unique<state>();
  auto writer = open_connection(path);
  if (!writer) return writer.error();
  s->writer = std::move(writer).value();
  // FULL: the WAL is fsynced at every commit, so a put is on disk when it returns.
  // secure_delete: replaced and removed blobs are zeroed, not left in free pages.
  const char* setup =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
      "CREATE TABLE IF NOT EXISTS sealed_keys("
      "  id TEXT PRIMARY KEY NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID;";
  if (sqlite3_exec(s->writer.get(), setup, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(s->writer.get(), path, "set up");
  const std::pair<stmt_ptr*, const char*> writes[] = {
      {&s->begin, "BEGIN IMMEDIATE"},
      {&s->commit, "COMMIT"},
      {&s->rollback, "ROLLBACK"},
      {&s->upsert,
       "INSERT INTO sealed_keys(id, sealed) VALUES(?1, ?2) "
       "ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed"},
      {&s->insert_new, "INSERT OR IGNORE INTO sealed_keys(id, sealed) VALUES(?1, ?2)"},
      {&s->erase, "DELETE FROM sealed_keys WHERE id = ?1"}};
  for (const auto& [slot, sql] : writes) {
    auto stmt = prepare(s->writer.get(), path, sql);
    if (!stmt) return stmt.error();
    *slot = std::move(stmt).value();
  }
  auto reader = open_connection(path);
  if (!reader) return reader.error();
  s->reader = std::move(reader).value();
  auto select = prepare(s->reader.get(), path, "SELECT sealed FROM sealed_keys WHERE id = ?1");
  if (!select) return select.error();
  s->select = std::move(select).value();
  return std::unique_ptr<sealed_db>(new sealed_db(path, std::move(s)));
}

crypto_result<done> sealed_db::apply(std::vector<write> writes) {
  for (const auto& w : writes)
    if (w.id.size() > INT_MAX / 2 || w.sealed.size() > INT_MAX / 2)
      return crypto_error{"key store: value too large"};
  state::pending mine;
  mine.writes = std::move(writes);
  std::unique_lock<std::mutex> lock(s_->mu);
  s_->queue.push_back(&mine);
  while (!mine.done) {
    if (s_->committing) {
      s_->cv.wait(lock);
      continue;
    }
    // Nobody is committing: take the role and everything queued so far, including `mine`.
    s_->committing = true;
    std::vector<state::pending*> batch;
    batch.swap(s_->queue);
    lock.unlock();
    const std::optional<crypto_error> failure = s_->commit_batch(batch, path_);
    lock.lock();
    for (state::pending* p : batch) {
      p->error = failure;
      p->done = true;
    }
    s_->committing = false;
    s_->cv.notify_all();
  }
  if (mine.error) return *mine.error;
  return done{};
}

crypto_result<std::optional<bytes>> sealed_db::find(std::string_view id) const {
  std::lock_guard<std::mutex> lock(s_->read_mu);
  sqlite3_stmt* s = s_->select.get();
  sqlite3_bind_text(s, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  const int rc = sqlite3_step(s);
  std::optional<bytes> out;
  if (rc == SQLITE_ROW) {
    const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
    out.emplace(data, data + sqlite3_column_bytes(s, 0));
  }
  std::optional<crypto_error> failure;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) failure = db_error(s_->reader.get(), path_, "read");
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (failure) return *failure;
  return out;
}

crypto_result<bool> sealed_db::contains(std::string_view id) const {
  auto found = find(id);  // blobs are a few hundred bytes: no separate EXISTS query needed
  if (!found) return found.error();
  return found.value().has_value();
}

}  // namespace certctl::crypto::detail
