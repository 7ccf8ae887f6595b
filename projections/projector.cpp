#include "projections/projector.hpp"

#include <pthread.h>
#include <algorithm>
#include <iostream>
#include <map>

#include "projections/checkpoint_table.hpp"

namespace certctl::projections {
namespace {

db_error store_failure(const store::store_error& e) {
  return {db_errc::unavailable, std::string("event store: ") + e.message};
}

}  // namespace

projector::projector(store::event_store& store, std::shared_ptr<sql::database> db,
                     projector_options options)
    : store_(store), db_(std::move(db)), options_(options) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

projector::~projector() {
  stop();
}

db_result<done> projector::add(std::shared_ptr<projection> p) {
  std::lock_guard<std::mutex> work(work_mu_);
  if (initialized_)
    return db_error{db_errc::invalid_argument, "projections are added before start/catch_up"};
  const std::string name = p->name();
  for (const auto& e : entries_)
    if (e.name == name) return db_error{db_errc::invalid_argument, "duplicate projection " + name};
  std::lock_guard<std::mutex> state(state_mu_);  // observers iterate entries_ under it
  entry e;
  e.p = p;
  e.name = name;
  e.version = p->schema_version();
  entries_.push_back(std::move(e));
  return done{};
}

void projector::log(const std::string& line) const {
  if (options_.log_to_stderr) std::cerr << "certctl projections: " << line << std::endl;
}

// ---- schema preparation --------------------------------------------------------------------

db_result<done> projector::init_locked() {
  for (auto& e : entries_) {
    if (auto r = prepare_schema(e); !r) return r.error();
  }
  initialized_ = true;
  needs_init_ = false;
  return done{};
}

db_result<done> projector::prepare_schema(entry& e) {
  auto tx = db_->begin();
  if (!tx) return tx.error();
  if (auto r = ensure_checkpoint_tables(*tx); !r) return r.error();
  auto cp = load_checkpoint(*tx, e.name, true);
  if (!cp) return cp.error();
  std::int64_t position = 0;
  if (*cp && (*cp)->schema_version == e.version) {
    position = (*cp)->position;
  } else {
    if (*cp)
      log(e.name + ": schema version " + std::to_string((*cp)->schema_version) + " -> " +
          std::to_string(e.version) + ", rebuilding from position 1");
    // Dropping first also clears tables left by a run that never stored a checkpoint.
    if (auto r = e.p->drop_schema(*tx); !r) return r.error();
    if (auto r = clear_skips(*tx, e.name); !r) return r.error();
    if (auto r = e.p->create_schema(*tx); !r) return r.error();
    if (auto r = store_checkpoint(*tx, e.name, {0, e.version}); !r) return r.error();
  }
  if (auto r = tx->commit(); !r) return r.error();
  {
    std::lock_guard<std::mutex> state(state_mu_);
    e.position = position;
  }
  progress_cv_.notify_all();
  return done{};
}

db_result<done> projector::reset_locked(entry& e) {
  auto tx = db_->begin();
  if (!tx) return tx.error();
  if (auto r = e.p->drop_schema(*tx); !r) return r.error();
  if (auto r = clear_skips(*tx, e.name); !r) return r.error();
  if (auto r = e.p->create_schema(*tx); !r) return r.error();
  if (auto r = store_checkpoint(*tx, e.name, {0, e.version}); !r) return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  std::lock_guard<std::mutex> state(state_mu_);
  e.position = 0;
  e.skipped = 0;
  e.last_error.clear();
  return done{};
}

db_result<done> projector::rebuild(const std::string& name) {
  {
    std::lock_guard<std::mutex> work(work_mu_);
    if (standby_.load())
      return db_error{db_errc::invalid_argument,
                      "this node's projector is a standby; rebuild on the node that runs it"};
    if (!initialized_ || needs_init_) {
      if (auto r = init_locked(); !r) return r.error();
    }
    bool found = false;
    for (auto& e : entries_) {
      if (!name.empty() && e.name != name) continue;
      found = true;
      log(e.name + ": rebuilding from position 1");
      if (auto r = reset_locked(e); !r) return r.error();
    }
    if (!found && !name.empty())
      return db_error{db_errc::invalid_argument, "no projection named " + name};
  }
  wake();
  return done{};
}

// ---- batches -------------------------------------------------------------------------------

db_result<std::int64_t> projector::catch_up() {
  std::lock_guard<std::mutex> work(work_mu_);
  for (;;) {
    auto progressed = step_locked();
    if (!progressed) return progressed.error();
    if (!*progressed) break;
  }
  return projected_position();
}

void projector::set_standby(bool standby) {
  {
    std::lock_guard<std::mutex> work(work_mu_);
    // The active node may have changed the schemas meanwhile: prepare them on resuming.
    if (standby_.exchange(standby) && !standby) needs_init_ = true;
  }
  wake();
}

db_result<done> projector::follow_checkpoints() {
  // Runs on every local commit as well as every standby_poll: one query for all checkpoints
  // (not one per projection), and the tables are made sure of only until they were seen.
  auto tx = db_->begin();
  if (!tx) return tx.error();
  if (!checkpoint_tables_seen_) {
    if (auto r = ensure_checkpoint_tables(*tx); !r) return r.error();
  }
  auto stored = load_all_checkpoints(*tx);
  if (!stored) return stored.error();
  checkpoint_tables_seen_ = true;
  std::vector<std::int64_t> positions;
  for (const auto& e : entries_) {
    auto cp = stored->find(e.name);
    positions.push_back(
        cp != stored->end() && cp->second.schema_version == e.version ? cp->second.position : 0);
  }
  tx->rollback();
  {
    std::lock_guard<std::mutex> state(state_mu_);
    for (size_t i = 0; i < entries_.size(); ++i) entries_[i].position = positions[i];
  }
  progress_cv_.notify_all();
  return done{};
}

db_result<bool> projector::step_locked() {
  if (standby_.load()) {
    if (auto r = follow_checkpoints(); !r) return r.error();
    return false;
  }
  if (!initialized_ || needs_init_) {
    if (auto r = init_locked(); !r) return r.error();
  }
  // Projections at the same checkpoint share one read and one transaction; one that is
  // rebuilding forms its own group, so the others keep up with the live log meanwhile.
  std::map<std::int64_t, std::vector<size_t>> groups;
  {
    std::lock_guard<std::mutex> state(state_mu_);
    for (size_t i = 0; i < entries_.size(); ++i) groups[entries_[i].position].push_back(i);
  }
  bool progressed = false;
  for (const auto& [from, members] : groups) {
    auto r = run_group(members, from);
    if (!r) return r.error();
    progressed = progressed || *r;
  }
  return progressed;
}

db_result<bool> projector::run_group(const std::vector<size_t>& members, std::int64_t from) {
  auto read = store_.read_all(from + 1, options_.batch_size);
  if (!read) return store_failure(read.error());
  if (read->empty()) return false;
  std::vector<slot> slots;
  slots.reserve(read->size());
  for (auto& ev : *read) {
    slot s{std::move(ev), std::nullopt};
    if (options_.upcasters != nullptr) {
      if (auto up = options_.upcasters->upcast(s.event); !up)
        s.upcast_error = "cannot upcast: " + up.error().message;
    }
    slots.push_back(std::move(s));
  }
  // Fast path without savepoints; a batch with a bad event is redone with one savepoint per
  // event, so only that event's writes are undone.
  auto outcome = apply_batch(members, slots, from, false);
  if (outcome && *outcome == batch_outcome::needs_savepoints)
    outcome = apply_batch(members, slots, from, true);
  if (!outcome) {
    std::lock_guard<std::mutex> state(state_mu_);
    ++failed_batches_;
    return outcome.error();
  }
  return true;
}

db_result<projector::batch_outcome> projector::apply_batch(const std::vector<size_t>& members,
                                                           const std::vector<slot>& slots,
                                                           std::int64_t from, bool careful) {
  // The read models and their checkpoints are derived from the log: a commit the disk has
  // not seen yet can be lost with a crash only together with its checkpoint, and is then
  // projected again (sql::durability::derived).
  auto tx = db_->begin(sql::durability::derived);
  if (!tx) return tx.error();
  for (size_t m : members) {
    auto& e = entries_[m];
    auto cp = load_checkpoint(*tx, e.name, true);
    if (!cp) return cp.error();
    if (!*cp || (*cp)->position != from || (*cp)->schema_version != e.version) {
      // Another projector process (or an operator) moved the checkpoint: the stored one is
      // the truth. Re-read from there; a changed schema version is prepared again.
      tx->rollback();
      log(e.name + ": checkpoint moved outside this projector; resynchronising");
      std::lock_guard<std::mutex> state(state_mu_);
      if (*cp) e.position = (*cp)->position;
      if (!*cp || (*cp)->schema_version != e.version) needs_init_ = true;
      return batch_outcome::checkpoint_moved;
    }
  }

  std::vector<skip_record> skips;
  auto skip = [&](entry& e, const slot& s, const std::string& why) -> db_result<done> {
    skips.push_back(skip_record{e.name, s.event.position, s.event.type, why});
    return record_skip(*tx, e.name, s.event.position, s.event.type, why);
  };
  for (const auto& s : slots) {
    for (size_t m : members) {
      auto& e = entries_[m];
      if (s.upcast_error) {
        if (auto r = skip(e, s, *s.upcast_error); !r) return r.error();
        continue;
      }
      if (careful) {
        if (auto r = tx->savepoint(); !r) return r.error();
      }
      auto applied = e.p->apply(*tx, s.event);
      if (!applied) {
        if (applied.error().transient)
          return db_error{db_errc::unavailable, e.name + " at position " +
                                                    std::to_string(s.event.position) + ": " +
                                                    applied.error().message};
        if (!careful) return batch_outcome::needs_savepoints;
        if (auto r = tx->rollback_to_savepoint(); !r) return r.error();
        if (auto r = tx->release_savepoint(); !r) return r.error();
        if (auto r = skip(e, s, applied.error().message); !r) return r.error();
      } else if (careful) {
        if (auto r = tx->release_savepoint(); !r) return r.error();
      }
    }
  }

  const std::int64_t last = slots.back().event.position;
  for (size_t m : members) {
    if (auto r = store_checkpoint(*tx, entries_[m].name, {last, entries_[m].version}); !r)
      return r.error();
  }
  if (auto r = tx->commit(); !r) return r.error();

  {
    std::lock_guard<std::mutex> state(state_mu_);
    for (size_t m : members) entries_[m].position = last;
    for (const auto& sk : skips) {
      for (auto& e : entries_) {
        if (e.name != sk.projection) continue;
        ++e.skipped;
        e.last_error =
            "position " + std::to_string(sk.position) + " (" + sk.event_type + "): " + sk.message;
      }
      ++skipped_total_;
      last_skip_ = sk;
    }
  }
  progress_cv_.notify_all();
  for (const auto& sk : skips)
    log(sk.projection + ": skipped event at position " + std::to_string(sk.position) + " of type " +
        sk.event_type + ": " + sk.message);
  return batch_outcome::committed;
}

// ---- following the log ---------------------------------------------------------------------

db_result<done> projector::start() {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (thread_.joinable()) return done{};
  {
    std::lock_guard<std::mutex> work(work_mu_);
    if (!standby_.load() && (!initialized_ || needs_init_)) {
      if (auto r = init_locked(); !r) return r.error();
    }
  }
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = false;
  }
  // The watch only wakes the loop; the loop reads in batches with read_all, which serves
  // catch-up after a restart and live events the same way. A subscription would also wake it,
  // but its thread reads and copies every event once more, only to be dropped here.
  commits_ = store_.watch_commits([this] { wake(); });
  thread_ = std::thread([this] { run(); });
  return done{};
}

db_result<done> projector::prepare() {
  std::lock_guard<std::mutex> work(work_mu_);
  if (initialized_ && !needs_init_) return done{};
  return init_locked();
}

void projector::stop() {
  std::lock_guard<std::mutex> life(lifecycle_mu_);
  if (commits_) {
    commits_->stop();
    commits_.reset();
  }
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void projector::wake() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    ++wake_seq_;
  }
  wake_cv_.notify_all();
}

void projector::run() {
  // Named for profiles (perf --sort comm) and tools/bench/run-issue-bench.sh THREADS=1.
  pthread_setname_np(pthread_self(), "projector");
  std::chrono::milliseconds backoff{0};
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(wake_mu_);
      if (stopping_) return;
      seen = wake_seq_;
    }
    db_result<bool> progressed = false;
    {
      std::lock_guard<std::mutex> work(work_mu_);
      progressed = step_locked();
    }
    std::unique_lock<std::mutex> lock(wake_mu_);
    if (!progressed) {
      backoff = std::min(std::max(backoff * 2, std::chrono::milliseconds(50)),
                         options_.max_retry_backoff);
      log("batch failed, retrying in " + std::to_string(backoff.count()) +
          " ms: " + progressed.error().message);
      wake_cv_.wait_for(lock, backoff, [&] { return stopping_; });
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    if (*progressed) continue;
    // A standby follows the active node's checkpoints, which no local event announces.
    const auto wait = standby_.load() ? options_.standby_poll : options_.idle_wait;
    wake_cv_.wait_for(lock, wait, [&] { return stopping_ || wake_seq_ != seen; });
  }
}

// ---- observation ---------------------------------------------------------------------------

std::int64_t projector::projected_position() const {
  std::lock_guard<std::mutex> state(state_mu_);
  if (entries_.empty()) return 0;
  std::int64_t low = entries_.front().position;
  for (const auto& e : entries_) low = std::min(low, e.position);
  return low;
}

bool projector::wait_for_position(std::int64_t position, std::chrono::milliseconds max) const {
  std::unique_lock<std::mutex> state(state_mu_);
  return progress_cv_.wait_for(state, max, [&] {
    if (entries_.empty()) return false;
    for (const auto& e : entries_)
      if (e.position < position) return false;
    return true;
  });
}

db_result<std::int64_t> projector::lag() {
  auto head = store_.head_position();
  if (!head) return store_failure(head.error());
  return std::max<std::int64_t>(0, *head - projected_position());
}

std::vector<projection_status> projector::status() const {
  std::lock_guard<std::mutex> state(state_mu_);
  std::vector<projection_status> out;
  for (const auto& e : entries_)
    out.push_back(projection_status{e.name, e.version, e.position, e.skipped, e.last_error});
  return out;
}

std::uint64_t projector::skipped_events() const {
  std::lock_guard<std::mutex> state(state_mu_);
  return skipped_total_;
}

std::optional<skip_record> projector::last_skip() const {
  std::lock_guard<std::mutex> state(state_mu_);
  return last_skip_;
}

std::uint64_t projector::failed_batches() const {
  std::lock_guard<std::mutex> state(state_mu_);
  return failed_batches_;
}

}  // namespace certctl::projections
