#include "actors/schedulers/notification_scheduler.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace certctl::schedulers {

struct notification_scheduler::impl {
  const infra::clock& clock;
  std::vector<periodic_loop> loops;
  std::vector<std::optional<events::timestamp_us>> last_run;
  std::chrono::milliseconds wake;
  std::function<void(const tick_report&)> on_report;
  std::mutex tick_mutex;  // one tick at a time, thread or caller
  std::mutex state_mutex;
  std::condition_variable cv;
  bool stopping = false;
  std::thread thread;

  impl(const infra::clock& c, std::vector<periodic_loop> l, std::chrono::milliseconds w,
       std::function<void(const tick_report&)> r)
      : clock(c), loops(std::move(l)), last_run(loops.size()), wake(w), on_report(std::move(r)) {}

  std::vector<tick_report> tick(events::timestamp_us now) {
    std::lock_guard<std::mutex> lock(tick_mutex);
    std::vector<tick_report> out;
    for (size_t i = 0; i < loops.size(); ++i) {
      const auto period =
          std::chrono::duration_cast<std::chrono::microseconds>(loops[i].every).count();
      if (!last_run[i]) {
        if (!loops[i].run_at_start) {
          last_run[i] = now;  // the first period starts now
          continue;
        }
      } else if (now - *last_run[i] < period) {
        continue;
      }
      last_run[i] = now;
      out.push_back(loops[i].tick(now));
      if (on_report && (!out.back().actions.empty() || !out.back().errors.empty()))
        on_report(out.back());
    }
    return out;
  }
};

notification_scheduler::notification_scheduler(const infra::clock& clock,
                                               std::vector<periodic_loop> loops,
                                               std::chrono::milliseconds wake,
                                               std::function<void(const tick_report&)> on_report)
    : impl_(std::make_unique<impl>(clock, std::move(loops), wake, std::move(on_report))) {}

notification_scheduler::~notification_scheduler() {
  stop();
}

void notification_scheduler::start() {
  std::lock_guard<std::mutex> lock(impl_->state_mutex);
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->thread = std::thread([p = impl_.get()] {
    std::unique_lock<std::mutex> lock(p->state_mutex);
    while (!p->stopping) {
      lock.unlock();
      p->tick(p->clock.now());
      lock.lock();
      p->cv.wait_for(lock, p->wake, [p] { return p->stopping; });
    }
  });
}

void notification_scheduler::stop() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(impl_->state_mutex);
    impl_->stopping = true;
    t = std::move(impl_->thread);
  }
  impl_->cv.notify_all();
  if (t.joinable()) t.join();
}

std::vector<tick_report> notification_scheduler::tick(events::timestamp_us now) {
  return impl_->tick(now);
}

}  // namespace certctl::schedulers
