#include "actors/runtime/deadline_watch.hpp"

#include <algorithm>
#include <vector>

namespace certctl::actors {

deadline_watch::deadline_watch(std::chrono::milliseconds timeout)
    : timeout_(timeout),
      slack_(std::clamp<std::chrono::milliseconds>(timeout / 10, std::chrono::milliseconds(1),
                                                   std::chrono::milliseconds(100))),
      thread_([this] { run(); }) {}

deadline_watch::~deadline_watch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void deadline_watch::watch(const completion_ptr& c) {
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Stamped under the lock, so deadlines stay ordered across submitting threads.
    was_empty = pending_.empty();
    pending_.push_back({clock::now() + timeout_, c});
  }
  if (was_empty) cv_.notify_one();  // otherwise the thread already waits for an earlier one
}

void deadline_watch::run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::weak_ptr<const completion>> expired;
  while (!stop_) {
    if (pending_.empty()) {
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      continue;
    }
    // Late by up to `slack`, so that a steady stream of commands costs a few wake-ups a
    // second rather than one per command.
    const auto wake = pending_.front().deadline + slack_;
    if (cv_.wait_until(lock, wake, [&] { return stop_; })) break;
    const auto now = clock::now();
    while (!pending_.empty() && pending_.front().deadline <= now) {
      expired.push_back(std::move(pending_.front().done));
      pending_.pop_front();
    }
    // Outside the lock: a callback may submit again.
    lock.unlock();
    for (auto& w : expired)
      if (auto c = w.lock())
        c->deliver(
            domain::domain_error{domain::domain_errc::unavailable, did_not_answer(*c, timeout_)});
    expired.clear();
    lock.lock();
  }
}

}  // namespace certctl::actors
