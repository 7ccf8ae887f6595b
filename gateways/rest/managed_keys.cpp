#include "gateways/rest/managed_keys.hpp"

#include <iostream>

#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {
namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

managed_key_directory::managed_key_directory(sql::database& db, const infra::clock& clock,
                                             std::set<std::string> configured_names)
    : db_(db), clock_(clock), configured_names_(std::move(configured_names)) {}

void managed_key_directory::load() {
  std::vector<http::api_key_record> records;
  std::map<std::string, key_policy> policies;
  for (std::int64_t page = 1;; ++page) {
    auto p = projections::list_resources(db_, "api_key", page, 500);
    if (!p) {
      // Keep the keys last read: an unreadable read model must not lock everybody out.
      std::cerr << "api keys: reading managed keys failed: " << p.error().message << std::endl;
      return;
    }
    for (const auto& doc : p->data) {
      auto k = events::json_object::parse(doc);
      if (!k) continue;
      auto level = http::parse_role(k->str("role"));
      const std::string hash = from_hex(k->str("hash"));
      if (!level || hash.size() != 32 || configured_names_.count(k->str("name"))) continue;
      http::api_key_record r;
      r.name = k->str("name");
      r.level = *level;
      r.salt = from_hex(k->str("salt"));
      r.agent_id = k->str("agent_id");  // agent keys: the one agent they may act for
      std::copy(hash.begin(), hash.end(), r.hash.begin());
      records.push_back(std::move(r));
      auto scope = std::make_shared<http::key_scope>();
      const auto scopes = events::json_object::parse(k->has("scopes") ? k->raw("scopes") : "{}")
                              .value_or(events::json_object{});
      scope->profile_ids = scopes.str_array("profile_ids");
      scope->issuer_ids = scopes.str_array("issuer_ids");
      scope->team_ids = scopes.str_array("team_ids");
      scope->owner_ids = scopes.str_array("owner_ids");
      key_policy policy;
      if (!scope->unrestricted()) policy.scope = std::move(scope);
      if (k->has("expires_at"))
        policy.expires_at_us = events::parse_rfc3339(k->str("expires_at")).value_or(1);
      policies[k->str("name")] = std::move(policy);
    }
    if (static_cast<std::int64_t>(records.size()) >= p->total || p->data.empty()) break;
  }
  auto fresh = std::make_shared<snapshot>();
  fresh->keys = http::key_store(std::move(records));
  fresh->policies = std::move(policies);
  fresh->loaded_at = std::chrono::steady_clock::now();
  std::atomic_store(&current_, std::shared_ptr<const snapshot>(std::move(fresh)));
}

void managed_key_directory::refresh() {
  std::lock_guard<std::mutex> lock(load_mu_);
  load();
}

std::optional<http::principal> managed_key_directory::authenticate(std::string_view token) {
  auto keys = std::atomic_load(&current_);
  if (!keys || std::chrono::steady_clock::now() - keys->loaded_at > std::chrono::seconds(1)) {
    // One request thread reloads; the others go on with what is loaded (if anything yet).
    std::unique_lock<std::mutex> lock(load_mu_, std::try_to_lock);
    if (lock.owns_lock() || !keys) {
      if (!lock.owns_lock()) lock.lock();
      load();
    }
    keys = std::atomic_load(&current_);
    if (!keys) return std::nullopt;
  }
  auto who = keys->keys.authenticate(token);
  if (!who) return std::nullopt;
  const auto it = keys->policies.find(who->name);
  if (it == keys->policies.end()) return std::nullopt;
  if (it->second.expires_at_us != 0 && clock_.now() >= it->second.expires_at_us)
    return std::nullopt;  // expired: the same 401 as an unknown key
  who->scope = it->second.scope;
  return who;
}

}  // namespace certctl::gateways::rest
