#include "infra/store/event_id.hpp"

#include <atomic>
#include <chrono>
#include <cstring>

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
  const auto bytes = crypto::random_bytes(8);
  std::uint64_t random = 0;
  for (auto v : bytes) random = (random << 8) | v;
  return format_uuid_v7(stamp >> 12, static_cast<std::uint16_t>(stamp & 0x0fff), random);
}

}  // namespace certctl::store
