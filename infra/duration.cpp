#include "infra/duration.hpp"

#include <algorithm>

namespace certctl::infra {

std::optional<std::int64_t> parse_duration_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  std::string digits = text;
  switch (text.back()) {
    case 's':
      digits.pop_back();
      break;
    case 'm':
      unit = 60;
      digits.pop_back();
      break;
    case 'h':
      unit = 3600;
      digits.pop_back();
      break;
    case 'd':
      unit = 86400;
      digits.pop_back();
      break;
    default:
      break;
  }
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const std::int64_t n = std::stoll(digits) * unit;
  if (n <= 0) return std::nullopt;
  return n;
}

}  // namespace certctl::infra
