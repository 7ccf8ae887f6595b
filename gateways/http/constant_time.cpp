#include "gateways/http/constant_time.hpp"

#include <cstddef>
#include <cstdint>

namespace certctl::gateways::http {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Fold the length difference into the accumulator instead of returning early on it.
  std::size_t diff = a.size() ^ b.size();
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  // volatile keeps the optimiser from turning the loop into an early-exit memcmp.
  volatile std::uint8_t acc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<std::uint8_t>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<std::uint8_t>(i < b.size() ? b[i] : 0);
    acc = static_cast<std::uint8_t>(acc | (x ^ y));
  }
  return (static_cast<std::size_t>(acc) | diff) == 0;
}

}  // namespace certctl::gateways::http
