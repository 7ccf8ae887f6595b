#pragma once
/// Event ids made by the store: time-ordered UUIDv7 (RFC 9562 §5.7).
///
/// Ids that grow with time keep inserts into the `event_id` unique index on its rightmost
/// page; random (v4) ids put every insert on a different page, which cost SQLite an extra
/// page write per event and PostgreSQL a full-page image per touched index page
/// (docs/benchmarks.md, cause 3). Uniqueness rests on 62 random bits per id; order within
/// one process is strict (a counter below the millisecond), across processes it is by
/// millisecond only, which is all the index needs.

#include <cstdint>
#include <string>

namespace certctl::store {

/// A new UUIDv7 in the canonical 8-4-4-4-12 lower-case hex form. Thread-safe.
std::string new_event_id();

/// The id for a given Unix time in milliseconds and 12-bit sub-millisecond counter, with
/// the 62 random bits taken from `random` (only its low 62 bits are used). For tests.
std::string format_uuid_v7(std::uint64_t unix_ms, std::uint16_t counter, std::uint64_t random);

}  // namespace certctl::store
