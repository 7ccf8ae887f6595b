#pragma once
/// Injected time. Production uses system_clock; tests use manual_clock and move time by hand,
/// so expiry, renewal and timeout logic is tested without sleeping.

#include <atomic>
#include <chrono>

#include "events/event.hpp"

namespace certctl::infra {

class clock {
 public:
  virtual ~clock() = default;
  virtual events::timestamp_us now() const = 0;
};

class system_clock final : public clock {
 public:
  events::timestamp_us now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class manual_clock final : public clock {
 public:
  explicit manual_clock(events::timestamp_us start) : now_(start) {}
  events::timestamp_us now() const override { return now_.load(); }
  void set(events::timestamp_us t) { now_.store(t); }
  void advance(std::chrono::microseconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<events::timestamp_us> now_;
};

}  // namespace certctl::infra
