#pragma once
/// Deterministic JSON bytes for hashing: object keys sorted by byte order, no insignificant
/// whitespace, strings as UTF-8 with minimal escapes, numbers as RapidJSON writes them.
/// Two semantically equal documents always give the same bytes, so the hash chain survives a
/// round trip through any database.

#include <string>
#include <string_view>

#include "events/event.hpp"
#include "events/result.hpp"

namespace certctl::events {

struct json_error {
  std::string message;
};

/// Parses `json` (must be valid UTF-8 JSON, no duplicate keys) and returns its canonical form.
result<std::string, json_error> canonicalize_json(std::string_view json);

/// The bytes the chain hashes for one event: every envelope field except the two hashes,
/// with the (already canonical) payload embedded as a JSON value.
std::string canonical_bytes(const recorded_event& e);

}  // namespace certctl::events
