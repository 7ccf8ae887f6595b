#pragma once
/// The event envelope (DESIGN §3). Events are facts in past tense and never change once stored.
///
///   proposed_event  what a command handler decides; the store assigns position and hashes
///   recorded_event  what the log holds: the envelope plus the canonical JSON payload

#include <cstdint>
#include <string>

namespace certctl::events {

/// Microseconds since the Unix epoch, UTC. One integer type keeps ordering and hashing exact.
using timestamp_us = std::int64_t;

struct proposed_event {
  std::string event_id;  ///< UUID v4, unique across the log; consumers de-duplicate by it
  std::string type;      ///< stable type name, e.g. "certificate.issued"
  int schema_version = 1;
  timestamp_us occurred_at = 0;  ///< from the injected clock
  std::string principal;         ///< who: api key id, ACME account, agent id, "system:<loop>"
  std::string source_address;    ///< remote address of the request, empty for system loops
  std::string correlation_id;    ///< request that started the chain of work
  std::string causation_id;      ///< command or event that directly caused this one
  std::string payload;           ///< JSON object text; canonicalised by the store on append
};

struct recorded_event {
  std::int64_t position = 0;        ///< global, gap-free, commit order == position order
  std::string stream_id;            ///< "<kind>-<entity id>", e.g. "certificate-mc-42"
  std::int64_t stream_version = 0;  ///< 1 for the first event of a stream
  std::string event_id;
  std::string type;
  int schema_version = 1;
  timestamp_us occurred_at = 0;
  std::string principal;
  std::string source_address;
  std::string correlation_id;
  std::string causation_id;
  std::string payload;    ///< canonical JSON text
  std::string prev_hash;  ///< hex SHA-256 of the previous event (64 zeros for position 1)
  std::string hash;       ///< hex SHA-256(prev_hash || canonical_bytes(event))
};

/// The chain's anchor: the "previous hash" of the very first event.
inline const std::string& genesis_hash() {
  static const std::string zeros(64, '0');
  return zeros;
}

}  // namespace certctl::events
