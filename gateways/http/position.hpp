#pragma once
/// Read-your-writes across the event log: a write response carries the log position its events
/// were appended at (`X-Certctl-Position: N`); a client that then reads may send
/// `X-Certctl-Wait-For-Position: N` and the router holds the read until the projections have
/// applied position N (via the caller's position_waiter), or answers 503 when that takes too long.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "events/result.hpp"
#include "gateways/http/http_types.hpp"

namespace certctl::gateways::http {

inline constexpr std::string_view position_header = "X-Certctl-Position";
inline constexpr std::string_view wait_for_position_header = "X-Certctl-Wait-For-Position";

/// Blocks until the read side has applied `position` or `max_wait` elapsed; true when applied.
/// Called on a request thread; must be thread-safe.
using position_waiter = std::function<bool(std::int64_t position, std::chrono::milliseconds)>;

/// Adds `X-Certctl-Position: <position>` to a write response.
void set_position(response& r, std::int64_t position);

/// Parses a position header value: a non-negative decimal integer (no sign, no spaces).
std::optional<std::int64_t> parse_position(std::string_view text);

/// The requested wait position: nullopt when the header is absent, 400 when malformed.
certctl::result<std::optional<std::int64_t>, api_error> requested_position(
    const header_map& headers);

}  // namespace certctl::gateways::http
