#include "connectors/fakes.hpp"

namespace certctl::connectors::fakes {

void journal::record(std::string call) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back(std::move(call));
}

std::vector<std::string> journal::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void journal::made(const connector_settings& s) {
  std::lock_guard<std::mutex> lock(mu_);
  made_.push_back(s);
}

std::vector<connector_settings> journal::settings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return made_;
}

void journal::fail_next(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_ = std::move(message);
}

std::string journal::take_failure() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string f;
  f.swap(failure_);
  return f;
}

certctl::result<done, std::string> register_fake_connectors(connector_registry& registry,
                                                            std::shared_ptr<journal> j) {
  if (auto r = registry.add(fake_issuer_registration(j)); !r) return r;
  if (auto r = registry.add(fake_target_registration(j)); !r) return r;
  if (auto r = registry.add(fake_notifier_registration(j)); !r) return r;
  return registry.add(fake_discovery_registration(j));
}

}  // namespace certctl::connectors::fakes
