#include "gateways/http/position.hpp"

#include <limits>
#include <string>

namespace certctl::gateways::http {

void set_position(response& r, std::int64_t position) {
  r.with_header(std::string(position_header), std::to_string(position));
}

std::optional<std::int64_t> parse_position(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const int d = c - '0';
    if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

certctl::result<std::optional<std::int64_t>, api_error> requested_position(
    const header_map& headers) {
  const auto it = headers.find(std::string(wait_for_position_header));
  if (it == headers.end()) return std::optional<std::int64_t>{};
  const auto v = parse_position(it->second);
  if (!v) {
    return api_error{
        400, "header " + std::string(wait_for_position_header) + " must be a non-negative integer"};
  }
  return std::optional<std::int64_t>{*v};
}

}  // namespace certctl::gateways::http
