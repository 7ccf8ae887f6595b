#pragma once
/// Test doubles for the four connector interfaces, in the library certctl_connector_fakes that
/// only tests link: the server never registers them. Each fake keeps what it was asked in a
/// shared journal, so a test can check what reached the connector (including a secret opened
/// from its sealed config) without a real peer.
///
///   FakeCA         issuer    {url*, api_key* (secret), async}
///   FakeTarget     target    {path*, password (secret), location: agent|proxy_agent|server}
///   FakeNotifier   notifier  {channel*, token (secret)}
///   FakeDiscovery  discovery {locations* (strings "where|common name"), token (secret)}
///
/// (* required). register_fake_connectors() adds all four.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/registry.hpp"

namespace certctl::connectors::fakes {

/// What every fake made and was asked, in order; thread-safe.
struct journal {
  void record(std::string call);
  std::vector<std::string> calls() const;
  void made(const connector_settings& s);
  std::vector<connector_settings> settings() const;

  /// When set, the next operation of any fake fails with this message (then it is cleared).
  void fail_next(std::string message);
  std::string take_failure();

 private:
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  std::vector<connector_settings> made_;
  std::string failure_;
};

/// Defined in issuers/fake, targets/fake, notifiers/fake, discovery/fake.
issuer_registration fake_issuer_registration(std::shared_ptr<journal> j);
target_registration fake_target_registration(std::shared_ptr<journal> j);
notifier_registration fake_notifier_registration(std::shared_ptr<journal> j);
discovery_registration fake_discovery_registration(std::shared_ptr<journal> j);

/// All four into `registry`, sharing `j`.
certctl::result<done, std::string> register_fake_connectors(connector_registry& registry,
                                                            std::shared_ptr<journal> j);

}  // namespace certctl::connectors::fakes
