#pragma once
/// When the next poll of a pending asynchronous CA order is due (issue 13): a fixed ladder,
/// 5 s, 15 s, 45 s, 2 min, 5 min and every 5 min after that, each step spread by +-20 %
/// jitter so that orders placed together do not poll the CA together. A CA's Retry-After is
/// a floor under the next poll, never shortened by the jitter.
///
///   poll n (0-based) -> ladder[min(n, size-1)] * (1 + jitter * u), u uniform in [-1, 1]
///
/// Pure functions: the caller gives the randomness, so tests can pin it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace certctl::actors {

/// 5 s, 15 s, 45 s, 120 s, 300 s.
std::vector<std::chrono::seconds> default_poll_ladder();

/// "5,15,45,120,300" -> the ladder; empty with `error` set when a step is not 1..86400 s or
/// the list is empty (CERTCTL_ORDER_POLL_SCHEDULE).
std::vector<std::chrono::seconds> parse_poll_ladder(const std::string& text, std::string& error);

/// The wait before poll number `polls_so_far` + 1, in microseconds: the ladder step times
/// (1 + jitter * (2 * unit - 1)), `unit` in [0, 1). `jitter` is clamped to [0, 0.9].
std::int64_t poll_wait_us(const std::vector<std::chrono::seconds>& ladder,
                          std::int64_t polls_so_far, double jitter, double unit);

/// A uniform draw in [0, 1) from the CSPRNG (infra/crypto/random).
double random_unit();

}  // namespace certctl::actors
