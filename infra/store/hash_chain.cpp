#include "infra/store/hash_chain.hpp"

#include <algorithm>

#include "events/canonical_json.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::store {

std::string chain_hash(const std::string& prev_hash, const events::recorded_event& e) {
  crypto::sha256 h;
  h.update(prev_hash);
  h.update(events::canonical_bytes(e));
  return crypto::to_hex(h.finish());
}

store_result<chain_report> verify_chain(event_store& store,
                                        const std::function<void(std::int64_t)>& progress) {
  chain_walk walk;
  walk.progress = progress;
  return verify_chain(store, walk);
}

store_result<chain_report> verify_chain(event_store& store, const chain_walk& walk) {
  chain_report report;
  const auto& progress = walk.progress;
  if (walk.from_position > 1 && walk.prev_hash.empty())
    return store_error{store_errc::invalid_argument,
                       "a walk from position " + std::to_string(walk.from_position) +
                           " needs the hash of the position before it"};
  std::string prev = walk.from_position <= 1 ? events::genesis_hash() : walk.prev_hash;
  std::int64_t expected_position = std::max<std::int64_t>(walk.from_position, 1);
  constexpr size_t page = 2000;
  for (;;) {
    auto batch = store.read_all(expected_position, page);
    if (!batch) return batch.error();
    for (const auto& e : *batch) {
      auto fail = [&](std::string why) {
        report.first_bad_position = expected_position;
        report.problem = std::move(why);
      };
      if (e.position != expected_position) {
        fail("position " + std::to_string(expected_position) + " is missing (next stored is " +
             std::to_string(e.position) + ")");
      } else if (e.prev_hash != prev) {
        fail("prev_hash does not match the hash of position " +
             std::to_string(expected_position - 1));
      } else if (chain_hash(prev, e) != e.hash) {
        fail("stored hash does not match the event's contents");
      }
      if (report.first_bad_position) return report;
      if (walk.on_event) walk.on_event(e);
      prev = e.hash;
      ++report.events_checked;
      ++expected_position;
      if (progress && report.events_checked % 10000 == 0) progress(report.events_checked);
    }
    if (batch->size() < page) break;
  }
  report.head_hash = prev;
  return report;
}

}  // namespace certctl::store
