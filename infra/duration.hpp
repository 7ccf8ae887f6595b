#pragma once
/// Durations in configuration: "90s", "60m", "2h", "1d" or plain seconds.

#include <cstdint>
#include <optional>
#include <string>

namespace certctl::infra {

/// The duration in seconds; nullopt when malformed, zero or negative, or over nine digits.
std::optional<std::int64_t> parse_duration_seconds(const std::string& text);

}  // namespace certctl::infra
