#pragma once
/// The anchor half of `certctl-audit verify`: signed checkpoints (infra/store/checkpoint.hpp)
/// and an expected head, compared with the log the chain walk has just verified.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "infra/store/checkpoint.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::audit {

/// A checkpoint and where the verifier found it, for messages ("log position 812",
/// "checkpoints.jsonl line 3").
struct sourced_checkpoint {
  store::checkpoint cp;
  std::string source;
};

/// An expected head from --expect-head "<position>:<hash>".
struct expected_head {
  std::int64_t position = 0;
  std::string hash;
};
std::optional<expected_head> parse_expected_head(const std::string& text);

/// The checkpoints of a JSON-lines file, labelled with file and line.
result<std::vector<sourced_checkpoint>, std::string> load_checkpoint_file(const std::string& path);

/// Outcome of the anchor checks: empty `problem` when every anchor holds.
struct anchor_report {
  std::string problem;
  std::optional<sourced_checkpoint> latest;  ///< the checkpoint covering the highest position
  size_t checked = 0;                        ///< checkpoints whose position the log covers
  size_t before_start = 0;  ///< checkpoints before the walk's start, not comparable
};

/// Checks every checkpoint's signature (under `trusted_keys`, or its own key when empty) and
/// compares it, and `expected` when set, with the log: a position beyond `head` is a deleted
/// tail, a different hash a rewritten log. Positions below `first_verified` were not walked and
/// are skipped. The earliest failing checkpoint is reported, with the latest one that held, so
/// the message bounds where the rewrite happened.
store::store_result<anchor_report> check_anchors(store::event_store& log,
                                                 std::vector<sourced_checkpoint> checkpoints,
                                                 const std::optional<expected_head>& expected,
                                                 const std::vector<std::string>& trusted_keys,
                                                 std::int64_t first_verified, std::int64_t head);

/// Why --from-checkpoint cannot start: `broken` when the log or checkpoint fails a check
/// (exit 1), else there was nothing to start from or the store failed (exit 2).
struct start_error {
  bool broken = false;
  std::string message;
};

/// For --from-checkpoint: the checkpoint for `position` among `candidates` whose signature
/// holds, checked against the stored event at `position` (present, its hash equal to the
/// checkpoint's and recomputing from its contents).
result<store::checkpoint, start_error> verified_start(
    store::event_store& log, const std::vector<sourced_checkpoint>& candidates,
    std::int64_t position, const std::vector<std::string>& trusted_keys);

}  // namespace certctl::audit
