#include "gateways/acme/nonce_store.hpp"

#include "infra/crypto/jwk.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::gateways::acme {

nonce_store::nonce_store(std::chrono::seconds ttl, std::size_t capacity, clock_fn now)
    : ttl_(ttl), capacity_(capacity), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::steady_clock::now(); };
}

std::string nonce_store::issue() {
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
