#pragma once
/// Answers `unavailable` for submitted commands nobody answered within the command timeout.
/// Internal to the runtime; CAF-free.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "actors/runtime/completion.hpp"

namespace certctl::actors {

/// Runs on its own thread. Every command gets the same timeout, so deadlines come in
/// submission order and a FIFO replaces a timer heap: one lock and one push per command, and
/// one wake-up per `slack` at most. It holds weak references: a finished command's callback
/// (and what it captured) is freed when the command finishes, not when its deadline passes.
/// Command timeouts are real time (steady clock), unlike passivation: they bound how long a
/// caller's thread waits, whatever a test's manual clock says.
class deadline_watch {
 public:
  explicit deadline_watch(std::chrono::milliseconds timeout);
  /// Stops the thread; commands still pending are not answered by it any more.
  ~deadline_watch();
  deadline_watch(const deadline_watch&) = delete;
  deadline_watch& operator=(const deadline_watch&) = delete;

  /// Answers `c` with `unavailable` at its deadline unless someone answered it before.
  void watch(const completion_ptr& c);

 private:
  using clock = std::chrono::steady_clock;
  struct entry {
    clock::time_point deadline;
    std::weak_ptr<const completion> done;
  };

  void run();

  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds slack_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<entry> pending_;
  bool stop_ = false;
  std::thread thread_;  ///< last: starts after the members it uses
};

}  // namespace certctl::actors
