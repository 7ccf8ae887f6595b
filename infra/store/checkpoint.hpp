#pragma once
/// Signed checkpoints of the hash chain's head (DESIGN §7, docs/architecture.md "Audit").
///
/// The chain alone cannot tell a deleted or rewritten tail from a log that simply ends there:
/// nothing outside the tail vouches for it. A checkpoint does: "the event at `position` has
/// hash `hash`", taken at `taken_at` and signed by a key held in the server's key store. It is
/// appended as an `audit.checkpoint` event on the system stream `audit-checkpoints` (so it is
/// chained, published on the event stream and relayed to Kafka like every event) and may be
/// written to an append-only JSON-lines file as well. A verifier holding a checkpoint from
/// outside the database (the file, Kafka, a copy an auditor kept) detects a missing tail
/// (the log ends before `position`) and a rewritten one (the hash at `position` differs).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::store {

inline constexpr const char* checkpoint_stream = "audit-checkpoints";
inline constexpr const char* checkpoint_event_type = "audit.checkpoint";

struct checkpoint {
  std::int64_t position = 0;  ///< the chain head this checkpoint vouches for
  std::string hash;           ///< that event's chain hash (hex)
  events::timestamp_us taken_at = 0;
  std::string key_id;          ///< SHA-256 of the signing key's SubjectPublicKeyInfo (hex)
  std::string public_key_pem;  ///< the signing key's public half, for auditors
  std::string signature;       ///< base64url (no padding) of the signature over signing_input()
  /// The cluster node that signed (CERTCTL_NODE_ID), with its own key from its own key store;
  /// empty on a single node. Signed (format v2) when set, so it cannot be moved to another node.
  std::string node_id;
};

/// The exact bytes signed: a versioned, line-separated text, so no JSON canonicalisation
/// question arises between the signer and an independent verifier. v1 without a node, v2
/// with the node id as a sixth line.
std::string signing_input(const checkpoint& c);

/// The checkpoint as one JSON object (the event payload and a file sink line).
std::string to_json(const checkpoint& c);
/// Parses to_json's output; nullopt when a field is missing or of the wrong type.
std::optional<checkpoint> parse_checkpoint(std::string_view json);

/// Signs head (position, hash) at `taken_at` with `private_key_pem` (ECDSA or Ed25519).
store_result<checkpoint> sign_checkpoint(std::int64_t position, const std::string& hash,
                                         events::timestamp_us taken_at,
                                         std::string_view private_key_pem,
                                         const std::string& node_id = {});

/// Why a checkpoint's signature is not acceptable; empty when it is. With `trusted_keys`
/// (public key PEMs) the signature must verify under one of them; without, under the key the
/// checkpoint carries (which proves integrity of the checkpoint, not who made it).
std::string check_signature(const checkpoint& c, const std::vector<std::string>& trusted_keys);

/// Every checkpoint recorded in the log, in position order (an undecodable payload is an
/// error: it is either tampering or a bug, never something to skip).
store_result<std::vector<checkpoint>> read_checkpoints(event_store& store);

/// Reads a JSON-lines checkpoint file; lines that do not parse are reported by number.
result<std::vector<checkpoint>, std::string> read_checkpoint_file(const std::string& path);

/// Appends one line to the file sink (created 0600 if absent; O_APPEND; fsynced).
result<done, std::string> append_checkpoint_file(const std::string& path, const checkpoint& c);

/// What take_checkpoint did.
struct checkpoint_outcome {
  std::optional<checkpoint> taken;  ///< nullopt: nothing new since the last checkpoint
  std::int64_t event_position = 0;  ///< where the audit.checkpoint event landed
};

/// Reads the head, signs it and appends the audit.checkpoint event (and, when `file_path` is
/// set, the file line). Skips when the head is the last checkpoint's own event or what it
/// already covers: checkpoints of checkpoints would grow the log while idle.
store_result<checkpoint_outcome> take_checkpoint(event_store& store,
                                                 std::string_view private_key_pem,
                                                 events::timestamp_us now,
                                                 const std::string& file_path = {},
                                                 const std::string& node_id = {});

}  // namespace certctl::store
