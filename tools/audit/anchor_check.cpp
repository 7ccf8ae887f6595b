#include "tools/audit/anchor_check.hpp"

#include <algorithm>

#include "events/time.hpp"
#include "infra/store/hash_chain.hpp"

namespace certctl::audit {
namespace {

std::string describe(const sourced_checkpoint& s) {
  return "the checkpoint for position " + std::to_string(s.cp.position) + " (" + s.source +
         ", taken " + events::format_rfc3339(s.cp.taken_at) + ", key " + s.cp.key_id.substr(0, 16) +
         (s.cp.node_id.empty() ? std::string() : ", node " + s.cp.node_id) + ")";
}

bool is_hex_hash(const std::string& h) {
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// The stored hash at `position`, nullopt when the log does not hold it.
store::store_result<std::optional<std::string>> hash_at(store::event_store& log,
                                                        std::int64_t position) {
  auto e = log.read_all(position, 1);
  if (!e) return e.error();
  if (e->empty() || e->front().position != position) return std::optional<std::string>{};
  return std::optional<std::string>{e->front().hash};
}

}  // namespace

std::optional<expected_head> parse_expected_head(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  expected_head h;
  try {
    size_t used = 0;
    h.position = std::stoll(text.substr(0, colon), &used);
    if (used != colon || h.position < 1) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  h.hash = text.substr(colon + 1);
  if (!is_hex_hash(h.hash)) return std::nullopt;
  return h;
}

result<std::vector<sourced_checkpoint>, std::string> load_checkpoint_file(const std::string& path) {
  auto read = store::read_checkpoint_file(path);
  if (!read) return read.error();
  std::vector<sourced_checkpoint> out;
  int line = 0;
  for (auto& cp : *read) out.push_back({std::move(cp), path + " entry " + std::to_string(++line)});
  return out;
}

store::store_result<anchor_report> check_anchors(store::event_store& log,
                                                 std::vector<sourced_checkpoint> checkpoints,
                                                 const std::optional<expected_head>& expected,
                                                 const std::vector<std::string>& trusted_keys,
                                                 std::int64_t first_verified, std::int64_t head) {
  anchor_report report;
  std::stable_sort(checkpoints.begin(), checkpoints.end(),
                   [](const auto& a, const auto& b) { return a.cp.position < b.cp.position; });
  // A forged checkpoint is reported as such, before any comparison could be misled by it.
  for (const auto& s : checkpoints) {
    if (auto why = store::check_signature(s.cp, trusted_keys); !why.empty()) {
      report.problem = describe(s) + " is not validly signed: " + why;
      return report;
    }
  }
  std::optional<std::int64_t> last_good;
  auto compare = [&](std::int64_t position, const std::string& hash,
                     const std::string& what) -> store::store_result<bool> {
    if (position > head) {
      report.problem = what + " vouches for position " + std::to_string(position) +
                       ", but the log ends at position " + std::to_string(head) +
                       ": the tail after it is missing (events " + std::to_string(head + 1) + ".." +
                       std::to_string(position) + " at least were deleted)";
      return false;
    }
    auto stored = hash_at(log, position);
    if (!stored) return stored.error();
    if (!*stored || **stored != hash) {
      report.problem =
          what + " does not match the log: position " + std::to_string(position) + " has hash " +
          (*stored ? **stored : std::string("(none)")) + ", the anchor says " + hash +
          "; the log was rewritten " +
          (last_good ? "after position " + std::to_string(*last_good) + " and " : std::string()) +
          "at or before position " + std::to_string(position);
      return false;
    }
    last_good = position;
    return true;
  };
  for (const auto& s : checkpoints) {
    if (s.cp.position < first_verified) {
      ++report.before_start;
      continue;
    }
    auto held = compare(s.cp.position, s.cp.hash, describe(s));
    if (!held) return held.error();
    if (!*held) return report;
    ++report.checked;
    report.latest = s;
  }
  if (expected) {
    auto held = compare(expected->position, expected->hash,
                        "the expected head " + std::to_string(expected->position));
    if (!held) return held.error();
  }
  return report;
}

result<store::checkpoint, start_error> verified_start(
    store::event_store& log, const std::vector<sourced_checkpoint>& candidates,
    std::int64_t position, const std::vector<std::string>& trusted_keys) {
  std::string rejected;
  for (const auto& s : candidates) {
    if (s.cp.position != position) continue;
    if (auto why = store::check_signature(s.cp, trusted_keys); !why.empty()) {
      rejected = describe(s) + " is not validly signed: " + why;
      continue;
    }
    auto e = log.read_all(position, 1);
    if (!e) return start_error{false, e.error().message};
    if (e->empty() || e->front().position != position)
      return start_error{true, "position " + std::to_string(position) + " is not in the log, so " +
                                   describe(s) + " cannot anchor the walk"};
    const auto& ev = e->front();
    if (ev.hash != s.cp.hash || store::chain_hash(ev.prev_hash, ev) != ev.hash)
      return start_error{true, "position " + std::to_string(position) + " does not match " +
                                   describe(s) + ": the log was rewritten at or before it"};
    return s.cp;
  }
  if (!rejected.empty()) return start_error{true, rejected};
  return start_error{false, "no checkpoint for position " + std::to_string(position) +
                                " in the log or the checkpoint file"};
}

}  // namespace certctl::audit
