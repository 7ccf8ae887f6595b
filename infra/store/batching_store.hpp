#pragma once
/// Shared machinery of every backend: validation at the edge, group commit, the hash chain,
/// the command-idempotency check, and subscriptions. A backend supplies only a write
/// transaction and its reads.
///
///   callers --append_async--> queue --writer thread--> one transaction per batch
///           <--callbacks-- answer thread (large batches) or the writer (small ones) <--
///
/// One writer per store object batches the appends of many callers into one transaction, so
/// one fsync serves many events; each caller still gets its own answer, and one caller's
/// version conflict never fails another caller's append.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "events/canonical_json.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::store {

/// A backend's write transaction. Destroying it without commit() rolls back.
class write_transaction {
 public:
  virtual ~write_transaction() = default;
  struct log_head {
    std::int64_t position = 0;
    std::string hash;
  };
  virtual store_result<log_head> head() = 0;
  /// Current version of each listed stream; streams that do not exist are absent.
  virtual store_result<std::map<std::string, std::int64_t>> stream_versions(
      const std::vector<std::string>& stream_ids) = 0;
  virtual store_result<std::map<std::string, command_record>> find_commands(
      const std::vector<std::string>& command_ids) = 0;
  /// What a batch needs to know before it can be decided: the head, the versions of its
  /// streams and its already-recorded commands. The default asks the three questions above in
  /// turn; a backend with round trips to spare may answer them at once (PostgreSQL does).
  struct batch_state {
    log_head head;
    std::map<std::string, std::int64_t> versions;
    std::map<std::string, command_record> commands;
  };
  virtual store_result<batch_state> read_batch_state(const std::vector<std::string>& stream_ids,
                                                     const std::vector<std::string>& command_ids);
  virtual store_result<done> insert(const std::vector<events::recorded_event>& rows,
                                    const std::vector<command_record>& commands) = 0;
  virtual store_result<done> commit() = 0;
};

class batching_store : public event_store {
 public:
  explicit batching_store(store_options options);
  ~batching_store() override;

  store_result<append_result> append(append_request req) final;
  void append_async(append_request req, append_callback done) final;
  std::unique_ptr<subscription> subscribe(std::int64_t from_position, event_handler handler) final;
  std::unique_ptr<commit_watch> watch_commits(std::function<void()> on_commit) final;

  const store_options& options() const { return options_; }

 protected:
  /// Backends call start() at the end of their constructor and shutdown() first thing in
  /// their destructor, so the writer thread never sees a half-built or half-destroyed object.
  void start();
  void shutdown();

  virtual store_result<std::unique_ptr<write_transaction>> begin_write() = 0;

  /// A batch decided on what the writer assumed about the log, for a backend that can check
  /// those assumptions and write in one statement (PostgreSQL): one round trip per batch
  /// instead of BEGIN, read, insert, COMMIT.
  struct conditional_batch {
    write_transaction::log_head head;  ///< the log's head the rows chain onto
    /// Every stream of the batch (the state of which a mismatch returns), with the version
    /// the decisions assumed for it before the batch (0: no stream).
    std::vector<std::string> stream_ids;
    std::vector<std::int64_t> stream_versions;
    /// The streams whose assumed version (0: no stream) must be checked, with that version.
    /// The others' versions were read or written at `head`: if the head is unchanged, so are
    /// they, and the check of the head covers them.
    std::vector<std::pair<std::string, std::int64_t>> unverified_versions;
    /// Command ids assumed unrecorded (those the decisions did not answer as duplicates).
    std::vector<std::string> new_command_ids;
    const std::vector<events::recorded_event>* rows = nullptr;
    const std::vector<command_record>* commands = nullptr;
    /// Each row's canonical bytes cut around its position, or null: with them the backend may
    /// move the batch onto a head that moved while every stream version still holds.
    const std::vector<events::canonical_parts>* rechain = nullptr;
  };
  /// What write_if_unchanged did: wrote the batch as decided (both empty), wrote it moved onto
  /// the actual head (`chained`: each row's position and hash, in order), or wrote nothing
  /// (`refused`: the log's state to decide the batch on again).
  struct conditional_outcome {
    std::vector<std::pair<std::int64_t, std::string>> chained;
    std::optional<write_transaction::batch_state> refused;
  };
  /// True when the backend implements write_if_unchanged().
  virtual bool conditional_writes() const { return false; }
  /// True when large batches are answered on a thread of their own (deliver()). A local
  /// backend (SQLite) gains: its writer is busy with CPU work and the next batch overlaps the
  /// wake-ups. A backend whose commit is a round trip (PostgreSQL) loses: the callers woken
  /// first start the next batch alone, batches halve and each costs a round trip
  /// (docs/benchmarks.md "Answers off the writer").
  virtual bool answers_off_writer() const { return true; }
  /// Writes the batch, durably committed, if the log still matches every assumption of
  /// `b` (or, with `b.rechain`, if only its head moved); otherwise writes nothing and returns
  /// the log's actual state for the batch's streams and commands (read under the same lock),
  /// so the batch can be decided again.
  virtual store_result<conditional_outcome> write_if_unchanged(const conditional_batch& b);

 private:
  struct pending {
    append_request req;
    append_callback done;
    std::chrono::steady_clock::time_point queued_at;  ///< for on_append_completed
  };
  struct subscription_impl;
  struct commit_watch_impl;  // batching_store_watch.cpp

  std::optional<store_error> validate(append_request& req) const;
  void writer_loop();
  void commit_batch(std::vector<pending>& batch);
  /// Tries the whole batch in one transaction; fills `results` and returns true on commit.
  bool try_commit(std::vector<pending>& batch, std::vector<store_result<append_result>>& results,
                  store_error& failure);
  /// try_commit through begin_write(): lock, read, insert, commit.
  bool try_commit_locked(std::vector<pending>& batch,
                         std::vector<store_result<append_result>>& results, store_error& failure);
  /// try_commit through write_if_unchanged(), deciding on the writer's cached view of the log.
  bool try_commit_conditional(std::vector<pending>& batch,
                              std::vector<store_result<append_result>>& results,
                              store_error& failure);
  /// Decides each append of `batch` against `state` (which it advances) and builds the rows.
  void plan(std::vector<pending>& batch, write_transaction::batch_state& state,
            std::vector<events::recorded_event>& rows, std::vector<command_record>& new_commands,
            std::vector<store_result<append_result>>& results) const;
  /// Moves the results of a batch decided on `decided_on` to where the backend chained its
  /// rows (conditional_outcome::chained).
  static void adopt_chain(const write_transaction::log_head& decided_on,
                          const std::vector<std::pair<std::int64_t, std::string>>& chained,
                          std::vector<store_result<append_result>>& results);
  /// Remembers the log as this writer left it after a commit that started at `from`
  /// (conditional backends only).
  void remember(const write_transaction::log_head& from, const write_transaction::log_head& head,
                const std::map<std::string, std::int64_t>& versions);
  void notify_committed();
  /// An append's outcome on its way to the caller.
  struct answer_item {
    append_callback done;
    std::chrono::steady_clock::time_point queued_at;
    store_result<append_result> result;
  };
  /// Hands the outcomes of one batch to their callers: a large batch goes to the answer
  /// thread (when answers_off_writer()), so the writer starts the next batch while the
  /// callers are woken (one futex wake each); a small one is answered here when nothing is
  /// ahead of it, which keeps a lone caller's latency. Callers are answered in commit order.
  void deliver(std::vector<pending>& batch, std::vector<store_result<append_result>>& results);
  void answer_loop();
  /// Answers one append and reports its latency to the options' observer.
  void answer(answer_item& item);

  store_options options_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<pending> queue_;
  bool stopping_ = false;
  std::thread writer_;

  // Outcomes waiting for the answer thread (answer_loop), in commit order.
  std::mutex answers_mu_;
  std::condition_variable answers_cv_;
  std::deque<answer_item> answers_;
  size_t answers_unfinished_ = 0;  ///< queued or being answered
  bool answers_stopping_ = false;
  std::thread answerer_;

  // The writer thread's view of the log after its last commit, for conditional writes: the
  // versions are those of the log at known_head_ (kept only while each commit started from
  // it). A stale head costs one more round trip, never a wrong decision, because
  // write_if_unchanged checks the head under the lock, and a missing stream is checked.
  std::optional<write_transaction::log_head> known_head_;
  std::unordered_map<std::string, std::int64_t> known_versions_;
  /// Batches left for which the rows' canonical parts are sent along (conditional_batch::
  /// rechain): set when another writer moved the head, so a single node never pays for them.
  int rechain_budget_ = 0;

  // Subscribers wait on this for "something committed" instead of polling hot.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::uint64_t commit_seq_ = 0;

  // watch_commits() callbacks, called by notify_committed() on the writer thread.
  std::mutex watchers_mu_;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> watchers_;
  std::uint64_t next_watcher_ = 0;
};

}  // namespace certctl::store
