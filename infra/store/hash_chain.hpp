#pragma once
/// The tamper-evident chain (DESIGN §7): hash = SHA-256(prev_hash || canonical_bytes(event)),
/// in global position order, hex-encoded.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "events/event.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::store {

std::string chain_hash(const std::string& prev_hash, const events::recorded_event& e);

struct chain_report {
  std::int64_t events_checked = 0;
  std::string head_hash;
  /// First position whose stored data does not match the chain, with the reason.
  std::optional<std::int64_t> first_bad_position;
  std::string problem;
};

/// Walks the whole log from position 1. `progress` (optional) is called every 10,000 events.
store_result<chain_report> verify_chain(event_store& store,
                                        const std::function<void(std::int64_t)>& progress = {});

/// Where a walk starts and what it reports along the way.
struct chain_walk {
  /// First position to check; the walk trusts `prev_hash` as the hash of from_position - 1
  /// (a verified checkpoint's), or the genesis hash when from_position is 1.
  std::int64_t from_position = 1;
  std::string prev_hash;
  std::function<void(std::int64_t)> progress;  ///< every 10,000 events
  /// Each event once it verified, in position order (e.g. to collect checkpoints).
  std::function<void(const events::recorded_event&)> on_event;
};

/// Walks from walk.from_position to the head. events_checked counts this walk's events only.
store_result<chain_report> verify_chain(event_store& store, const chain_walk& walk);

}  // namespace certctl::store
