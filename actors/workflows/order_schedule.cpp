#include "actors/workflows/order_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "infra/crypto/random.hpp"

namespace certctl::actors {

std::vector<std::chrono::seconds> default_poll_ladder() {
  using std::chrono::seconds;
  return {seconds(5), seconds(15), seconds(45), seconds(120), seconds(300)};
}

std::vector<std::chrono::seconds> parse_poll_ladder(const std::string& text, std::string& error) {
  std::vector<std::chrono::seconds> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    std::int64_t n = 0;
    bool ok = !part.empty() && part.size() <= 6;
    for (char c : part) {
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (!ok || n < 1 || n > 86400) {
      error = "poll schedule step '" + part + "' must be 1..86400 seconds";
      return {};
    }
    out.emplace_back(n);
    start = comma + 1;
  }
  if (out.empty()) error = "poll schedule is empty";
  return out;
}

std::int64_t poll_wait_us(const std::vector<std::chrono::seconds>& ladder,
                          std::int64_t polls_so_far, double jitter, double unit) {
  const auto steps = ladder.empty() ? default_poll_ladder() : ladder;
  const size_t i = static_cast<size_t>(
      std::clamp<std::int64_t>(polls_so_far, 0, static_cast<std::int64_t>(steps.size()) - 1));
  const double base = static_cast<double>(steps[i].count()) * 1e6;
  const double j = std::clamp(jitter, 0.0, 0.9);
  const double u = std::clamp(unit, 0.0, 1.0);
  return static_cast<std::int64_t>(std::llround(base * (1.0 + j * (2.0 * u - 1.0))));
}

double random_unit() {
  auto bytes = crypto::random_bytes(8);
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.data(), sizeof v);
  return static_cast<double>(v >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

}  // namespace certctl::actors
