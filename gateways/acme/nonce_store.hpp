#pragma once
/// Anti-replay nonces (RFC 8555 §6.5): single use, expiring. Two forms:
///
///  - Local (a single node): random nonces remembered in memory until used or expired. After a
///    restart every outstanding nonce is unknown, and clients recover through badNonce (which
///    carries a fresh nonce), exactly as the RFC intends.
///  - Shared (cluster mode, docs/cluster.md "ACME nonces"): stateless authenticated nonces, so
///    any node can check a nonce another node issued. A nonce is base64url of
///      0x01 || issued-at (Unix seconds, 8 bytes big-endian) || 12 random bytes
///         || first 16 bytes of HMAC-SHA256(secret, the 21 bytes before)
///    with a secret every node derives from the shared key-encryption key. It is fresh while
///    issued-at is within the lifetime (and not more than a minute in the future: clock skew
///    between nodes); single use comes from `record_once`, which records the nonce in a table
///    every node shares (shared_nonce_log) and answers false when it was there already.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace certctl::gateways::acme {

/// Records a used nonce until `expires_unix` (seconds): true the first time, false when it was
/// recorded before (a replay), nullopt when the record could not be made (refused as well).
using nonce_recorder =
    std::function<std::optional<bool>(const std::string& nonce, std::int64_t expires_unix)>;

class nonce_store {
 public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;
  using wall_clock_fn = std::function<std::chrono::system_clock::time_point()>;

  /// Local form. At most `capacity` live nonces: beyond it the oldest are dropped, so a client
  /// hammering new-nonce cannot grow memory without bound.
  nonce_store(std::chrono::seconds ttl, std::size_t capacity, clock_fn now = {});

  /// Shared form: `secret` (32 bytes or more) is the same on every node.
  nonce_store(std::chrono::seconds ttl, std::string secret, nonce_recorder record_once,
              wall_clock_fn now = {});

  /// A fresh nonce.
  std::string issue();

  /// True exactly once for a nonce issued within its lifetime (on any node, in shared form).
  bool consume(const std::string& nonce);

  /// Nonces held in memory (the local form's live nonces; 0 in shared form).
  std::size_t size() const;

 private:
  void evict(std::chrono::steady_clock::time_point now);
  std::string mac(const std::string& body) const;

  std::chrono::seconds ttl_;
  std::size_t capacity_ = 0;
  clock_fn now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> live_;  ///< -> expiry
  std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> order_;
  // Shared form.
  std::string secret_;
  nonce_recorder record_once_;
  wall_clock_fn wall_now_;
};

}  // namespace certctl::gateways::acme
