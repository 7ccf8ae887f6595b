#include "infra/store/batching_store.hpp"

#include <pthread.h>
#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include "events/canonical_json.hpp"
#include "infra/clock.hpp"
#include "infra/store/event_id.hpp"
#include "infra/store/hash_chain.hpp"

namespace certctl::store {
namespace {

constexpr size_t max_id_length = 512;
constexpr size_t max_meta_length = 4096;
/// From this many appends in a batch the answers go to the answer thread. Waking a caller is
/// a futex syscall (tens of microseconds on a virtualised kernel); one hand-off costs about
/// one wake, so small batches are cheaper to answer on the writer.
constexpr size_t answer_offload_from = 8;

store_error invalid(std::string message) {
  return {store_errc::invalid_argument, std::move(message)};
}

std::string describe(const expected_version& ev) {
  switch (ev.k) {
    case expected_version::kind::any:
      return "any";
    case expected_version::kind::no_stream:
      return "no stream";
    case expected_version::kind::exact:
      return "version " + std::to_string(ev.version);
  }
  return "?";
}

}  // namespace

store_result<write_transaction::batch_state> write_transaction::read_batch_state(
    const std::vector<std::string>& stream_ids, const std::vector<std::string>& command_ids) {
  batch_state out;
  auto h = head();
  if (!h) return h.error();
  out.head = std::move(h).value();
  auto versions = stream_versions(stream_ids);
  if (!versions) return versions.error();
  out.versions = std::move(versions).value();
  if (!command_ids.empty()) {
    auto found = find_commands(command_ids);
    if (!found) return found.error();
    out.commands = std::move(found).value();
  }
  return out;
}

batching_store::batching_store(store_options options) : options_(options) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  if (!options_.group_commit) options_.max_batch = 1;
}

batching_store::~batching_store() {
  shutdown();
}

void batching_store::start() {
  // Called from the backend's constructor, so the backend's own answers_off_writer() counts.
  if (answers_off_writer()) answerer_ = std::thread([this] { answer_loop(); });
  writer_ = std::thread([this] { writer_loop(); });
}

void batching_store::shutdown() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  // The writer is done: the answer thread drains what it handed over, then ends.
  {
    std::lock_guard<std::mutex> lock(answers_mu_);
    answers_stopping_ = true;
  }
  answers_cv_.notify_all();
  if (answerer_.joinable()) answerer_.join();
  // Anything still queued is answered, never dropped silently.
  std::deque<pending> rest;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    rest.swap(queue_);
  }
  for (auto& p : rest) p.done(store_error{store_errc::closed, "event store is shutting down"});
}

std::optional<store_error> batching_store::validate(append_request& req) const {
  if (req.stream_id.empty()) return invalid("stream id is empty");
  if (req.stream_id.size() > max_id_length) return invalid("stream id is longer than 512 bytes");
  if (req.events.empty()) return invalid("append to " + req.stream_id + " has no events");
  if (req.expected.k == expected_version::kind::exact && req.expected.version < 0)
    return invalid("expected version must not be negative");
  if (req.command_id.size() > max_id_length) return invalid("command id is longer than 512 bytes");
  if (!req.command_id.empty()) {
    auto outcome =
        events::canonicalize_json(req.command_outcome.empty() ? "{}" : req.command_outcome);
    if (!outcome) return invalid("command outcome is not valid JSON: " + outcome.error().message);
    req.command_outcome = std::move(outcome).value();
  }
  const infra::system_clock wall;
  for (size_t i = 0; i < req.events.size(); ++i) {
    auto& e = req.events[i];
    const std::string where = "event " + std::to_string(i) + " of " + req.stream_id;
    if (e.type.empty() || e.type.size() > 256) return invalid(where + ": type must be 1-256 bytes");
    if (e.schema_version < 1) return invalid(where + ": schema version must be >= 1");
    if (e.payload.size() > options_.max_payload_bytes)
      return store_error{store_errc::payload_too_large,
                         where + ": payload of " + std::to_string(e.payload.size()) +
                             " bytes exceeds the maximum of " +
                             std::to_string(options_.max_payload_bytes)};
    if (e.principal.size() > max_meta_length || e.source_address.size() > max_meta_length ||
        e.correlation_id.size() > max_meta_length || e.causation_id.size() > max_meta_length ||
        e.event_id.size() > max_id_length)
      return invalid(where + ": envelope field too long");
    auto canonical = events::canonicalize_json(e.payload);
    if (!canonical)
      return invalid(where + ": payload is not valid JSON: " + canonical.error().message);
    if (canonical->empty() || (*canonical)[0] != '{')
      return invalid(where + ": payload must be a JSON object");
    e.payload = std::move(canonical).value();
    if (e.event_id.empty()) e.event_id = new_event_id();
    // Callers should stamp events from the injected clock; the wall clock is the fallback.
    if (e.occurred_at == 0) e.occurred_at = wall.now();
  }
  return std::nullopt;
}

void batching_store::append_async(append_request req, append_callback done) {
  if (auto err = validate(req)) {
    done(std::move(*err));
    return;
  }
  std::unique_lock<std::mutex> lock(queue_mu_);
  if (stopping_) {
    lock.unlock();
    done(store_error{store_errc::closed, "event store is shutting down"});
    return;
  }
  queue_.push_back(pending{std::move(req), std::move(done), std::chrono::steady_clock::now()});
  lock.unlock();
  queue_cv_.notify_one();
}

store_result<append_result> batching_store::append(append_request req) {
  std::promise<store_result<append_result>> promise;
  auto future = promise.get_future();
  append_async(std::move(req),
               [&promise](store_result<append_result> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void batching_store::writer_loop() {
  pthread_setname_np(pthread_self(), "store-writer");  // for profiles
  std::vector<pending> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left to do
      if (options_.max_batch_wait_us > 0 && queue_.size() < options_.max_batch && !stopping_) {
        // Linger briefly so that a burst lands in one transaction.
        queue_cv_.wait_for(lock, std::chrono::microseconds(options_.max_batch_wait_us),
                           [&] { return stopping_ || queue_.size() >= options_.max_batch; });
      }
      const size_t n = std::min(queue_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void batching_store::commit_batch(std::vector<pending>& batch) {
  std::vector<store_result<append_result>> results;
  store_error failure{store_errc::unavailable, ""};
  const auto began = std::chrono::steady_clock::now();
  if (try_commit(batch, results, failure)) {
    if (options_.on_batch_committed)
      options_.on_batch_committed(batch.size(),
                                  std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - began));
    notify_committed();
    deliver(batch, results);
    return;
  }
  if (batch.size() == 1) {
    results.clear();
    results.push_back(std::move(failure));
    deliver(batch, results);
    return;
  }
  // The shared transaction failed (for example a duplicate event id in one append): retry
  // each append alone so that one bad append cannot fail its neighbours.
  for (auto& p : batch) {
    std::vector<pending> single;
    single.push_back(std::move(p));
    commit_batch(single);
  }
}

void batching_store::deliver(std::vector<pending>& batch,
                             std::vector<store_result<append_result>>& results) {
  std::unique_lock<std::mutex> lock(answers_mu_);
  if ((batch.size() < answer_offload_from || !answers_off_writer()) && answers_unfinished_ == 0) {
    lock.unlock();
    for (size_t i = 0; i < batch.size(); ++i) {
      answer_item item{std::move(batch[i].done), batch[i].queued_at, std::move(results[i])};
      answer(item);
    }
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i)
    answers_.push_back({std::move(batch[i].done), batch[i].queued_at, std::move(results[i])});
  answers_unfinished_ += batch.size();
  lock.unlock();
  answers_cv_.notify_one();
}

void batching_store::answer_loop() {
  pthread_setname_np(pthread_self(), "store-answers");  // for profiles
  std::deque<answer_item> taken;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(answers_mu_);
      answers_unfinished_ -= taken.size();
      taken.clear();
      answers_cv_.wait(lock, [&] { return answers_stopping_ || !answers_.empty(); });
      if (answers_.empty()) return;  // stopping, everything answered
      taken.swap(answers_);
    }
    for (auto& item : taken) answer(item);
  }
}

void batching_store::answer(answer_item& item) {
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - item.queued_at);
  // Reported before the answer, so whoever waits on the answer also sees the observation.
  if (options_.on_append_completed) options_.on_append_completed(latency);
  item.done(std::move(item.result));
}

bool batching_store::try_commit(std::vector<pending>& batch,
                                std::vector<store_result<append_result>>& results,
                                store_error& failure) {
  return conditional_writes() ? try_commit_conditional(batch, results, failure)
                              : try_commit_locked(batch, results, failure);
}

store_result<batching_store::conditional_outcome> batching_store::write_if_unchanged(
    const conditional_batch&) {
  return store_error{store_errc::unavailable, "this backend has no conditional writes"};
}

bool batching_store::try_commit_locked(std::vector<pending>& batch,
                                       std::vector<store_result<append_result>>& results,
                                       store_error& failure) {
  auto tx_or = begin_write();
  if (!tx_or) {
    failure = tx_or.error();
    return false;
  }
  auto& tx = *tx_or.value();
  std::set<std::string> stream_set, command_set;
  for (auto& p : batch) {
    stream_set.insert(p.req.stream_id);
    if (!p.req.command_id.empty()) command_set.insert(p.req.command_id);
  }
  auto state = tx.read_batch_state({stream_set.begin(), stream_set.end()},
                                   {command_set.begin(), command_set.end()});
  if (!state) {
    failure = state.error();
    return false;
  }
  const auto from = state->head;
  std::vector<events::recorded_event> rows;
  std::vector<command_record> new_commands;
  plan(batch, *state, rows, new_commands, results);
  if (!rows.empty() || !new_commands.empty()) {
    auto inserted = tx.insert(rows, new_commands);
    if (!inserted) {
      failure = inserted.error();
      return false;
    }
  }
  auto committed = tx.commit();
  if (!committed) {
    failure = committed.error();
    return false;
  }
  if (conditional_writes()) remember(from, state->head, state->versions);
  return true;
}

bool batching_store::try_commit_conditional(std::vector<pending>& batch,
                                            std::vector<store_result<append_result>>& results,
                                            store_error& failure) {
  std::set<std::string> stream_set, command_set;
  for (auto& p : batch) {
    stream_set.insert(p.req.stream_id);
    if (!p.req.command_id.empty()) command_set.insert(p.req.command_id);
  }
  // First try: the writer's own view (a new stream is assumed at version 0, a command
  // unrecorded). A mismatch returns the actual state and the batch is decided again on it;
  // only another node appending in between makes that second try fail too.
  write_transaction::batch_state state;
  std::set<std::string> trusted;  // streams whose version the head check covers
  if (known_head_) {
    state.head = *known_head_;
    for (const auto& id : stream_set) {
      auto known = known_versions_.find(id);
      if (known == known_versions_.end()) continue;
      state.versions[id] = known->second;
      trusted.insert(id);
    }
  }
  constexpr int conditional_tries = 2;
  for (int attempt = 0; attempt < conditional_tries; ++attempt) {
    conditional_batch b;
    b.head = state.head;
    b.stream_ids.assign(stream_set.begin(), stream_set.end());
    for (const auto& id : stream_set) {
      auto v = state.versions.find(id);
      const std::int64_t assumed = v == state.versions.end() ? 0 : v->second;
      b.stream_versions.push_back(assumed);
      if (trusted.count(id) == 0) b.unverified_versions.emplace_back(id, assumed);
    }
    for (const auto& id : command_set)
      if (state.commands.count(id) == 0) b.new_command_ids.push_back(id);
    auto decided = state;  // plan() advances the head and versions it is given
    std::vector<events::recorded_event> rows;
    std::vector<command_record> new_commands;
    plan(batch, decided, rows, new_commands, results);
    b.rows = &rows;
    b.commands = &new_commands;
    std::vector<events::canonical_parts> parts;
    if (rechain_budget_ > 0) {
      parts.reserve(rows.size());
      for (const auto& e : rows) parts.push_back(events::canonical_bytes_around_position(e));
      b.rechain = &parts;
    }
    auto written = write_if_unchanged(b);
    if (!written) {
      // The outcome may be unknown (a lost connection): start from the database next time.
      known_head_.reset();
      known_versions_.clear();
      failure = written.error();
      return false;
    }
    if (!written->refused && written->chained.empty()) {
      if (rechain_budget_ > 0) --rechain_budget_;
      remember(state.head, decided.head, decided.versions);
      return true;
    }
    // Another writer moved the head: send the parts along for a while, so the next batches
    // are moved onto the head where they are written instead of costing a second try.
    constexpr int rechain_batches = 1024;
    rechain_budget_ = rechain_batches;
    if (!written->refused) {
      adopt_chain(state.head, written->chained, results);
      // The batch's versions were checked under the lock at the actual head; the cached ones
      // of other streams were not, so they go (remember() keeps only a continuing head's).
      known_head_.reset();
      const write_transaction::log_head head{written->chained.back().first,
                                             written->chained.back().second};
      remember(state.head, head, decided.versions);
      return true;
    }
    // The log's state under the lock: every stream of the batch was read at its head.
    state = std::move(*written->refused);
    trusted = stream_set;
  }
  // Appends from other nodes keep moving the log: take the lock for the whole decision.
  return try_commit_locked(batch, results, failure);
}

void batching_store::adopt_chain(const write_transaction::log_head& decided_on,
                                 const std::vector<std::pair<std::int64_t, std::string>>& chained,
                                 std::vector<store_result<append_result>>& results) {
  // Rows were decided at consecutive positions after decided_on; the backend moved them all
  // by the same distance. Positions at or before decided_on were not written by this batch
  // (an empty append's last position, an earlier duplicate's) and stay as they are.
  const std::int64_t first = decided_on.position + 1;
  const std::int64_t shift = chained.front().first - first;
  auto moved = [&](std::int64_t p) { return p >= first ? p + shift : p; };
  for (auto& r : results) {
    if (!r) continue;
    if (!r->last_hash.empty())  // only appends of this batch that wrote events have one
      r->last_hash = chained[static_cast<size_t>(r->last_position - first)].second;
    if (r->first_position > 0) r->first_position = moved(r->first_position);
    r->last_position = moved(r->last_position);
  }
}

void batching_store::remember(const write_transaction::log_head& from,
                              const write_transaction::log_head& head,
                              const std::map<std::string, std::int64_t>& versions) {
  // Versions remembered at another head may be stale (another node appended in between).
  const bool continues =
      known_head_ && known_head_->position == from.position && known_head_->hash == from.hash;
  // Bounded: a forgotten stream costs a check on its next append.
  constexpr size_t max_known_streams = 1 << 16;
  if (!continues || known_versions_.size() + versions.size() > max_known_streams)
    known_versions_.clear();
  known_head_ = head;
  for (const auto& [id, v] : versions) known_versions_[id] = v;
}

void batching_store::plan(std::vector<pending>& batch, write_transaction::batch_state& state,
                          std::vector<events::recorded_event>& rows,
                          std::vector<command_record>& new_commands,
                          std::vector<store_result<append_result>>& results) const {
  auto& versions = state.versions;
  auto& known_commands = state.commands;
  std::int64_t position = state.head.position;
  std::string prev_hash = state.head.position == 0 ? events::genesis_hash() : state.head.hash;
  results.clear();
  results.reserve(batch.size());
  for (auto& p : batch) {
    auto& req = p.req;
    std::int64_t& current = versions[req.stream_id];  // 0 when the stream is new
    if (!req.command_id.empty()) {
      auto known = known_commands.find(req.command_id);
      if (known != known_commands.end()) {
        append_result r;
        r.stream_version = current;
        r.duplicate_command = true;
        r.command_outcome = known->second.outcome;
        r.last_position = known->second.position;
        results.emplace_back(std::move(r));
        continue;
      }
    }
    const bool matches =
        req.expected.k == expected_version::kind::any ||
        (req.expected.k == expected_version::kind::no_stream && current == 0) ||
        (req.expected.k == expected_version::kind::exact && current == req.expected.version);
    if (!matches) {
      results.emplace_back(store_error{store_errc::wrong_expected_version,
                                       "stream " + req.stream_id + " is at version " +
                                           std::to_string(current) + ", the append expected " +
                                           describe(req.expected)});
      continue;
    }
    append_result r;
    r.first_position = position + 1;
    for (auto& pe : req.events) {
      events::recorded_event e;
      e.position = ++position;
      e.stream_id = req.stream_id;
      e.stream_version = ++current;
      // Copied, not moved: if this transaction fails the append is retried on its own.
      e.event_id = pe.event_id;
      e.type = pe.type;
      e.schema_version = pe.schema_version;
      e.occurred_at = pe.occurred_at;
      e.principal = pe.principal;
      e.source_address = pe.source_address;
      e.correlation_id = pe.correlation_id;
      e.causation_id = pe.causation_id;
      e.payload = pe.payload;
      e.prev_hash = prev_hash;
      e.hash = chain_hash(prev_hash, e);
      prev_hash = e.hash;
      rows.push_back(std::move(e));
    }
    r.last_position = position;
    if (!req.events.empty()) r.last_hash = prev_hash;
    r.stream_version = current;
    if (!req.command_id.empty()) {
      command_record rec{req.command_id, req.command_outcome, position};
      known_commands[req.command_id] = rec;
      new_commands.push_back(std::move(rec));
    }
    results.emplace_back(std::move(r));
  }
  // The head the batch leaves behind, for whoever decides the next batch.
  state.head.position = position;
  state.head.hash = position == 0 ? std::string() : prev_hash;
}

/// History first, then live: the thread reads pages from its next position and, when it has
/// caught up, sleeps until a local commit (or the poll interval, for other writers) wakes it.
/// Positions are gap-free in commit order, so "read from next position" never skips.
struct batching_store::subscription_impl final : subscription {
  subscription_impl(batching_store& store, std::int64_t from, event_handler handler)
      : store_(store), next_(from < 1 ? 1 : from), handler_(std::move(handler)) {
    thread_ = std::thread([this] { run(); });
  }
  ~subscription_impl() override { stop(); }

  void stop() override {
    stop_.store(true);
    { std::lock_guard<std::mutex> lock(store_.commit_mu_); }
    store_.commit_cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  std::int64_t next_position() const override { return next_.load(); }

 private:
  void run() {
    constexpr size_t page = 1000;
    while (!stop_.load()) {
      std::uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(store_.commit_mu_);
        seen = store_.commit_seq_;
      }
      auto batch = store_.read_all(next_.load(), page);
      if (batch) {
        for (const auto& e : *batch) {
          if (stop_.load()) return;
          handler_(e);
          next_.store(e.position + 1);
        }
        if (batch->size() == page) continue;  // more history waiting
      }
      std::unique_lock<std::mutex> lock(store_.commit_mu_);
      store_.commit_cv_.wait_for(lock, std::chrono::milliseconds(store_.options_.poll_interval_ms),
                                 [&] { return stop_.load() || store_.commit_seq_ != seen; });
    }
  }

  batching_store& store_;
  std::atomic<std::int64_t> next_;
  event_handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::unique_ptr<subscription> batching_store::subscribe(std::int64_t from_position,
                                                        event_handler handler) {
  return std::make_unique<subscription_impl>(*this, from_position, std::move(handler));
}

void batching_store::notify_committed() {
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    ++commit_seq_;
  }
  commit_cv_.notify_all();
  std::lock_guard<std::mutex> lock(watchers_mu_);
  for (const auto& w : watchers_) w.second();
}

}  // namespace certctl::store
