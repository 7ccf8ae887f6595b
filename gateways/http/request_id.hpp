#pragma once
/// Request ids: taken from a client's `X-Request-Id` when it is safe to log and echo, otherwise
/// generated, so every response and log line can be correlated.

#include <string>
#include <string_view>

namespace certctl::gateways::http {

inline constexpr std::size_t max_request_id_length = 128;

/// True for 1..128 characters of [A-Za-z0-9._-]: nothing that could split a log line or a header.
bool is_sane_request_id(std::string_view id);

/// A fresh random id (UUID v4).
std::string new_request_id();

/// `client_supplied` when sane, else a fresh id.
std::string choose_request_id(std::string_view client_supplied);

}  // namespace certctl::gateways::http
