#include "gateways/acme/nonce_store.hpp"

#include "infra/crypto/jwk.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::acme {

namespace {

constexpr unsigned char shared_version = 0x01;
constexpr std::size_t body_size = 1 + 8 + 12;  ///< version, issued-at, random
constexpr std::size_t mac_size = 16;
/// How far in the future another node's clock may put issued-at.
constexpr std::int64_t max_skew_seconds = 60;

/// Compares without an early exit, so the time taken tells nothing about the expected MAC.
bool same_bytes(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

nonce_store::nonce_store(std::chrono::seconds ttl, std::size_t capacity, clock_fn now)
    : ttl_(ttl), capacity_(capacity), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::steady_clock::now(); };
}

nonce_store::nonce_store(std::chrono::seconds ttl, std::string secret, nonce_recorder record_once,
                         wall_clock_fn now)
    : ttl_(ttl),
      secret_(std::move(secret)),
      record_once_(std::move(record_once)),
      wall_now_(std::move(now)) {
  if (!wall_now_) wall_now_ = [] { return std::chrono::system_clock::now(); };
}

std::string nonce_store::mac(const std::string& body) const {
  const auto d = crypto::hmac_sha256(secret_, body);
  return std::string(reinterpret_cast<const char*>(d.data()), mac_size);
}

std::string nonce_store::issue() {
  if (record_once_) {
    const std::int64_t issued =
        std::chrono::duration_cast<std::chrono::seconds>(wall_now_().time_since_epoch()).count();
    std::string body(1, static_cast<char>(shared_version));
    for (int shift = 56; shift >= 0; shift -= 8)
      body.push_back(static_cast<char>((static_cast<std::uint64_t>(issued) >> shift) & 0xff));
    const auto random = crypto::random_bytes(12);
    body.append(reinterpret_cast<const char*>(random.data()), random.size());
    return crypto::base64url_encode(body + mac(body));
  }
  const auto bytes = crypto::random_bytes(16);
  std::string nonce = crypto::base64url_encode(bytes);
  const auto now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  evict(now);
  while (live_.size() >= capacity_ && !order_.empty()) {
    live_.erase(order_.front().first);
    order_.pop_front();
  }
  live_[nonce] = now + ttl_;
  order_.emplace_back(nonce, now + ttl_);
  return nonce;
}

bool nonce_store::consume(const std::string& nonce) {
  if (record_once_) {
    const auto raw = crypto::base64url_decode(nonce);
    if (!raw || raw->size() != body_size + mac_size) return false;
    const std::string body = raw->substr(0, body_size);
    if (static_cast<unsigned char>(body[0]) != shared_version) return false;
    if (!same_bytes(mac(body), raw->substr(body_size))) return false;
    std::uint64_t issued_u = 0;
    for (std::size_t i = 1; i <= 8; ++i)
      issued_u = (issued_u << 8) | static_cast<unsigned char>(body[i]);
    const auto issued = static_cast<std::int64_t>(issued_u);
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(wall_now_().time_since_epoch()).count();
    if (issued > now + max_skew_seconds || now >= issued + ttl_.count()) return false;
    // Authentic and in its window: single use is the shared record's to decide. It must be
    // kept until no node would accept the nonce any more (the skew included).
    const auto first = record_once_(nonce, issued + ttl_.count() + max_skew_seconds);
    return first.value_or(false);
  }
  const auto now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(nonce);
  if (it == live_.end()) return false;
  const bool fresh = it->second > now;
  // Erased either way: used once, or expired. The deque entry is dropped lazily by evict().
  live_.erase(it);
  return fresh;
}

std::size_t nonce_store::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.size();
}

void nonce_store::evict(std::chrono::steady_clock::time_point now) {
  // Issue order is expiry order (one ttl), so expired entries sit at the front.
  while (!order_.empty() && (order_.front().second <= now || !live_.count(order_.front().first))) {
    live_.erase(order_.front().first);
    order_.pop_front();
  }
}

}  // namespace certctl::gateways::acme
