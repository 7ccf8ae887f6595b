#include "infra/store/event_id.hpp"

#include <pthread.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>

#include "infra/crypto/random.hpp"

namespace certctl::store {
namespace {

/// Last (milliseconds << 12 | counter) handed out in this process. Each id takes the larger
/// of "now" and "last + 1", so ids never go backwards, even when the wall clock does or more
/// than 4,096 ids fall in one millisecond (the timestamp then runs slightly ahead, as RFC 9562
/// §6.2 allows).
std::atomic<std::uint64_t> last_stamp{0};

std::uint64_t next_stamp() {
  const auto now_ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const std::uint64_t floor = now_ms << 12;
  std::uint64_t prev = last_stamp.load(std::memory_order_relaxed);
  for (;;) {
    const std::uint64_t next = floor > prev ? floor : prev + 1;
    if (last_stamp.compare_exchange_weak(prev, next, std::memory_order_relaxed)) return next;
  }
}

/// Bumped in a forked child, so the child never hands out random bits its parent also has.
std::atomic<std::uint64_t> fork_generation{0};

/// 64 random bits from a per-thread pool refilled 512 bytes at a time: one call into the
/// CSPRNG per 64 ids instead of one per id (its locking was ~8 % of an append's CPU).
std::uint64_t random_u64() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { ++fork_generation; }); });
  thread_local std::array<std::uint8_t, 512> pool;
  thread_local size_t used = pool.size();
  thread_local std::uint64_t generation = 0;
  const auto current = fork_generation.load(std::memory_order_relaxed);
  if (used + 8 > pool.size() || generation != current) {
    const auto bytes = crypto::random_bytes(pool.size());
    std::memcpy(pool.data(), bytes.data(), pool.size());
    used = 0;
    generation = current;
  }
  std::uint64_t out = 0;
  for (size_t i = 0; i < 8; ++i) out = (out << 8) | pool[used + i];
  used += 8;
  return out;
}

}  // namespace

std::string format_uuid_v7(std::uint64_t unix_ms, std::uint16_t counter, std::uint64_t random) {
  std::uint8_t b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((counter >> 8) & 0x0f));  // version 7, rand_a high
  b[7] = static_cast<std::uint8_t>(counter & 0xff);
  b[8] = static_cast<std::uint8_t>(0x80 | ((random >> 56) & 0x3f));  // RFC 9562 variant
  for (int i = 9; i < 16; ++i) b[i] = static_cast<std::uint8_t>(random >> (8 * (15 - i)));
  static const char hex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++o;  // the dashes stay
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 0x0f];
  }
  return out;
}

std::string new_event_id() {
  const std::uint64_t stamp = next_stamp();
  return format_uuid_v7(stamp >> 12, static_cast<std::uint16_t>(stamp & 0x0fff), random_u64());
}

}  // namespace certctl::store
