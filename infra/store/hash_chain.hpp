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

}  // namespace certctl::store
