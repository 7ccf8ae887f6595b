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

/// canonical_bytes(e) cut around the decimal digits of e.position: before + digits + after is
/// the whole. For a store that moves an already decided event to a later position and hashes
/// it again where it writes (PostgreSQL's certctl_append_batch rechains a batch onto a head
/// another node moved; docs/architecture.md "One round trip per batch on PostgreSQL").
struct canonical_parts {
  std::string before_position;
  std::string after_position;
};
canonical_parts canonical_bytes_around_position(const recorded_event& e);

}  // namespace certctl::events
