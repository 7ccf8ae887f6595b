#pragma once
/// Anti-replay nonces (RFC 8555 §6.5): random, single use, expiring. Held in memory: after a
/// restart every outstanding nonce is unknown, and clients recover through badNonce (which
/// carries a fresh nonce), exactly as the RFC intends.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace certctl::gateways::acme {

class nonce_store {
 public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

  /// At most `capacity` live nonces: beyond it the oldest are dropped, so a client hammering
  /// new-nonce cannot grow memory without bound.
  nonce_store(std::chrono::seconds ttl, std::size_t capacity, clock_fn now = {});

  /// A fresh nonce: base64url of 16 random bytes.
  std::string issue();

  /// True exactly once for a nonce issued within its lifetime.
  bool consume(const std::string& nonce);

  std::size_t size() const;

 private:
  void evict(std::chrono::steady_clock::time_point now);

  std::chrono::seconds ttl_;
  std::size_t capacity_;
  clock_fn now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> live_;  ///< -> expiry
  std::deque<std::pair<std::string, std::chrono::steady_clock::time_point>> order_;
};

}  // namespace certctl::gateways::acme
