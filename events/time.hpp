#pragma once
/// RFC 3339 rendering and parsing of event timestamps (always UTC, microsecond precision).

#include <optional>
#include <string>
#include <string_view>

#include "events/event.hpp"

namespace certctl::events {

/// "2026-11-27T08:12:46.123456Z"
std::string format_rfc3339(timestamp_us t);

/// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; nullopt when malformed.
std::optional<timestamp_us> parse_rfc3339(std::string_view text);

}  // namespace certctl::events
