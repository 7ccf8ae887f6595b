#include "infra/crypto/detail/sealed_db.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "infra/crypto/secure_file.hpp"
#include "infra/sql/scoped_transaction.hpp"
#include "infra/sql/sqlite.hpp"

namespace certctl::crypto::detail {

namespace {

using connection = sql::sqlite_connection;

crypto_error db_error(const std::string& path, std::string_view what, const sql::db_error& e) {
  return crypto_error{"key store " + path + ": " + std::string(what) + ": " + e.message};
}

const std::string upsert_sql =
    "INSERT INTO sealed_keys(id, sealed) VALUES(?1, ?2) "
    "ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed";
const std::string insert_new_sql = "INSERT OR IGNORE INTO sealed_keys(id, sealed) VALUES(?1, ?2)";
const std::string erase_sql = "DELETE FROM sealed_keys WHERE id = ?1";
const std::string select_sql = "SELECT sealed FROM sealed_keys WHERE id = ?1";
const std::string replace_if_sql =
    "UPDATE sealed_keys SET sealed = ?2 WHERE id = ?1 AND sealed = ?3";
const std::string ids_sql = "SELECT id FROM sealed_keys";

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

crypto_result<std::unique_ptr<connection>> open_connection(const std::string& path,
                                                           std::string setup) {
  sql::sqlite_options o;
  o.create = false;  // create_private_file made it, owner-only
  o.no_follow = true;
  o.busy_timeout_ms = 10000;  // another process briefly holding the write lock
  o.setup = std::move(setup);
  auto c = connection::open(path, o);
  if (!c) return db_error(path, "open", c.error());
  return std::move(c).value();
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
  std::unique_ptr<connection> writer;

  // Read side: its own connection, so reads never wait for a commit's fsync (WAL readers see
  // the last committed state).
  mutable std::mutex read_mu;
  std::unique_ptr<connection> reader;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<pending*> queue;  ///< guarded by mu
  bool committing = false;      ///< guarded by mu

  /// One transaction for the whole batch; nullopt on success. Leaving early rolls it back.
  std::optional<crypto_error> commit_batch(const std::vector<pending*>& batch,
                                           const std::string& path) {
    auto tx = sql::scoped_transaction<connection>::begin(*writer);
    if (!tx) return db_error(path, "begin", tx.error());
    for (const pending* p : batch) {
      for (const write& w : p->writes) {
        auto s = writer->prepare(w.kind == write_kind::upsert             ? upsert_sql
                                 : w.kind == write_kind::insert_new       ? insert_new_sql
                                 : w.kind == write_kind::replace_if_equal ? replace_if_sql
                                                                          : erase_sql);
        if (!s) return db_error(path, "prepare", s.error());
        s->bind(1, w.id);
        if (w.kind != write_kind::erase) s->bind_blob(2, w.sealed.data(), w.sealed.size());
        if (w.kind == write_kind::replace_if_equal)
          s->bind_blob(3, w.expected.data(), w.expected.size());
        if (auto r = s->run(); !r) return db_error(path, "write \"" + w.id + "\"", r.error());
      }
    }
    // A failed COMMIT is rolled back before it returns, never left open.
    if (auto c = tx->commit(); !c) return db_error(path, "commit", c.error());
    return std::nullopt;
  }
};

sealed_db::sealed_db(std::string path, std::unique_ptr<state> s)
    : path_(std::move(path)), s_(std::move(s)) {}

sealed_db::~sealed_db() = default;

crypto_result<std::unique_ptr<sealed_db>> sealed_db::open(const std::string& path) {
  if (auto c = create_private_file(path); !c) return c.error();
  auto s = std::make_unique<state>();
  // FULL: the WAL is fsynced at every commit, so a put is on disk when it returns.
  // secure_delete: replaced and removed blobs are zeroed, not left in free pages.
  auto writer =
      open_connection(path,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
                      "CREATE TABLE IF NOT EXISTS sealed_keys("
                      "  id TEXT PRIMARY KEY NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID;");
  if (!writer) return writer.error();
  s->writer = std::move(writer).value();
  // Prepared now, so a database the statements do not fit fails at open, not at first use.
  for (const std::string* sql : {&upsert_sql, &insert_new_sql, &erase_sql, &replace_if_sql}) {
    if (auto stmt = s->writer->prepare(*sql); !stmt) return db_error(path, "prepare", stmt.error());
  }
  auto reader = open_connection(path, "");
  if (!reader) return reader.error();
  s->reader = std::move(reader).value();
  if (auto stmt = s->reader->prepare(select_sql); !stmt)
    return db_error(path, "prepare", stmt.error());
  return std::unique_ptr<sealed_db>(new sealed_db(path, std::move(s)));
}

crypto_result<done> sealed_db::apply(std::vector<write> writes) {
  for (const auto& w : writes)
    if (w.id.size() > INT_MAX / 2 || w.sealed.size() > INT_MAX / 2 ||
        w.expected.size() > INT_MAX / 2)
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
  auto s = s_->reader->prepare(select_sql);
  if (!s) return db_error(path_, "read", s.error());
  s->bind(1, id);
  auto row = s->step();
  if (!row) return db_error(path_, "read", row.error());
  std::optional<bytes> out;
  if (*row) out.emplace(s->blob(0));
  return out;
}

crypto_result<bool> sealed_db::contains(std::string_view id) const {
  auto found = find(id);  // blobs are a few hundred bytes: no separate EXISTS query needed
  if (!found) return found.error();
  return found.value().has_value();
}

crypto_result<std::vector<std::string>> sealed_db::ids() const {
  std::lock_guard<std::mutex> lock(s_->read_mu);
  auto s = s_->reader->prepare(ids_sql);
  if (!s) return db_error(path_, "list", s.error());
  std::vector<std::string> out;
  for (;;) {
    auto row = s->step();
    if (!row) return db_error(path_, "list", row.error());
    if (!*row) return out;
    out.push_back(s->text(0).value_or(""));
  }
}

}  // namespace certctl::crypto::detail
