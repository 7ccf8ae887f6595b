// batching_store::watch_commits: "something was committed" for a follower that reads the log
// by itself, without the subscription thread that reads and copies every event.
#include <algorithm>

#include "infra/store/batching_store.hpp"

namespace certctl::store {

/// Local commits call the callback from notify_committed() on the writer thread (no thread
/// hand-off); this thread calls it every poll interval for commits of other processes or
/// nodes, which no local commit announces.
struct batching_store::commit_watch_impl final : commit_watch {
  commit_watch_impl(batching_store& store, std::function<void()> on_commit)
      : store_(store), on_commit_(std::move(on_commit)) {
    {
      std::lock_guard<std::mutex> lock(store_.watchers_mu_);
      id_ = ++store_.next_watcher_;
      store_.watchers_.emplace_back(id_, on_commit_);
    }
    thread_ = std::thread([this] { poll(); });
  }
  ~commit_watch_impl() override { stop(); }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(store_.watchers_mu_);
      auto& w = store_.watchers_;
      w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& e) { return e.first == id_; }),
              w.end());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  void poll() {
    const auto interval = std::chrono::milliseconds(store_.options_.poll_interval_ms);
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, interval, [this] { return stop_; })) {
      lock.unlock();
      on_commit_();
      lock.lock();
    }
  }

  batching_store& store_;
  std::function<void()> on_commit_;
  std::uint64_t id_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

namespace {

/// event_store's default watch: a subscription whose events only trigger the callback.
struct subscription_watch final : commit_watch {
  explicit subscription_watch(std::unique_ptr<subscription> sub) : sub_(std::move(sub)) {}
  void stop() override { sub_->stop(); }
  std::unique_ptr<subscription> sub_;
};

}  // namespace

std::unique_ptr<commit_watch> event_store::watch_commits(std::function<void()> on_commit) {
  auto head = head_position();
  return std::make_unique<subscription_watch>(subscribe(
      head ? *head + 1 : 1,
      [on_commit = std::move(on_commit)](const events::recorded_event&) { on_commit(); }));
}

std::unique_ptr<commit_watch> batching_store::watch_commits(std::function<void()> on_commit) {
  return std::make_unique<commit_watch_impl>(*this, std::move(on_commit));
}

}  // namespace certctl::store
