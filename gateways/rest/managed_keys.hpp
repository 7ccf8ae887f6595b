#pragma once
/// API keys managed through the API (gateways/rest/api_key_routes.hpp), as the router's second
/// key directory (router_options::managed_keys). Keys live as `api_key` entities holding only a
/// salt and SHA-256(salt || key); this directory reads them from the read model, at most once a
/// second and at once after a local create or revoke, so a revocation takes effect on this node
/// immediately and on the others within about a second.
///
/// Matching reuses http::key_store (every record hashed and compared, constant time), then
/// refuses an expired key and attaches the key's scope (and an agent key's agent_id) to the
/// principal.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "gateways/http/api_keys.hpp"
#include "infra/clock.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::rest {

class managed_key_directory {
 public:
  /// `configured_names`: the names of CERTCTL_API_KEYS_NAMED keys, which a managed key may not
  /// take (the audit trail names principals by key name).
  managed_key_directory(sql::database& db, const infra::clock& clock,
                        std::set<std::string> configured_names);

  std::optional<http::principal> authenticate(std::string_view token);

  /// Re-reads the keys now (after a create or revoke on this node).
  void refresh();

  bool is_configured_name(const std::string& name) const {
    return configured_names_.count(name) != 0;
  }

 private:
  struct key_policy {
    std::shared_ptr<const http::key_scope> scope;
    std::int64_t expires_at_us = 0;  ///< 0: never
  };
  /// One read of the keys; replaced whole, so request threads match without a lock.
  struct snapshot {
    http::key_store keys;
    std::map<std::string, key_policy> policies;  ///< by key name
    std::chrono::steady_clock::time_point loaded_at;
  };
  /// Reads the keys (caller holds load_mu_); keeps the current snapshot when the read fails.
  void load();

  sql::database& db_;
  const infra::clock& clock_;
  const std::set<std::string> configured_names_;
  std::mutex load_mu_;                       ///< one reload at a time
  std::shared_ptr<const snapshot> current_;  ///< std::atomic_load / atomic_store only
};

}  // namespace certctl::gateways::rest
