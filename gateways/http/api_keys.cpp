#include "gateways/http/api_keys.hpp"

#include <cctype>
#include <set>

#include "gateways/http/constant_time.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::gateways::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

auth_config_error entry_error(std::size_t index, std::string_view name, const std::string& what) {
  std::string m = "CERTCTL_API_KEYS_NAMED entry " + std::to_string(index);
  if (!name.empty() && is_valid_key_name(name)) m += " ('" + std::string(name) + "')";
  return {m + ": " + what};
}

}  // namespace

bool is_valid_key_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

auth_result<std::vector<named_key>> parse_named_keys(std::string_view spec) {
  std::vector<named_key> keys;
  std::set<std::string> names;
  std::set<std::string> secrets;
  std::size_t index = 0;
  for (std::string_view raw : split(spec, ',')) {
    const std::string_view entry = trim(raw);
    if (entry.empty()) continue;
    ++index;
    const auto parts = split(entry, ':');
    if (parts.size() < 2 || parts.size() > 4) {
      return entry_error(index, parts.front(),
                         "expected name:key, name:key:role (role is admin, operator, viewer, "
                         "agent or auditor) or name:key:agent:<agent-id>");
    }
    named_key k;
    k.name = std::string(trim(parts[0]));
    k.key = std::string(trim(parts[1]));
    if (!is_valid_key_name(k.name)) {
      return entry_error(index, {}, "name must be 1-64 characters of [A-Za-z0-9._-]");
    }
    if (k.key.empty()) return entry_error(index, k.name, "key is empty");
    if (parts.size() >= 3) {
      const auto r = parse_role(trim(parts[2]));
      if (!r) {
        return entry_error(index, k.name,
                           "unknown role '" + std::string(trim(parts[2])) +
                               "' (expected admin, operator, viewer or agent)");
      }
      k.level = *r;
    }
    if (parts.size() == 4) {
      k.agent_id = std::string(trim(parts[3]));
      if (k.level != role::agent)
        return entry_error(index, k.name, "only an agent key names an agent id");
      if (!is_valid_key_name(k.agent_id))
        return entry_error(index, k.name, "agent id must be 1-64 characters of [A-Za-z0-9._-]");
    }
    if (!names.insert(k.name).second) return entry_error(index, k.name, "duplicate name");
    if (!secrets.insert(k.key).second) {
      return entry_error(index, k.name, "same key as an earlier entry");
    }
    keys.push_back(std::move(k));
  }
  return keys;
}

crypto::sha256_digest salted_hash(std::string_view salt, std::string_view key) {
  crypto::sha256 h;
  h.update(salt);
  h.update(key);
  return h.finish();
}

api_key_record hash_key(const named_key& key) {
  const auto salt_bytes = crypto::random_bytes(key_salt_bytes);
  api_key_record r;
  r.name = key.name;
  r.level = key.level;
  r.agent_id = key.agent_id;
  r.salt.assign(salt_bytes.begin(), salt_bytes.end());
  r.hash = salted_hash(r.salt, key.key);
  return r;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view rest = authorization.substr(scheme.size());
  if (rest.front() != ' ') return std::nullopt;
  rest = trim(rest);
  if (rest.empty() || rest.find(' ') != std::string_view::npos) return std::nullopt;
  return rest;
}

key_store::key_store(std::vector<api_key_record> records) : records_(std::move(records)) {}

key_store key_store::from_named_keys(const std::vector<named_key>& keys) {
  std::vector<api_key_record> records;
  records.reserve(keys.size());
  for (const auto& k : keys) records.push_back(hash_key(k));
  return key_store(std::move(records));
}

std::optional<principal> key_store::authenticate(std::string_view presented) const {
  // Branch-free selection: `matched` is 1 for at most one record (keys are unique), and the
  // loop body is the same for matches and misses.
  std::size_t match_index = 0;
  std::size_t found = 0;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    const auto digest = salted_hash(records_[i].salt, presented);
    const std::size_t matched = constant_time_equal(
        std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()),
        std::string_view(reinterpret_cast<const char*>(records_[i].hash.data()),
                         records_[i].hash.size()));
    const std::size_t mask = ~(matched - 1);  // all ones when matched, zero otherwise
    match_index |= i & mask;
    found |= matched;
  }
  if (!found) return std::nullopt;
  const auto& r = records_[match_index];
  return principal{r.name, r.level, nullptr, r.agent_id};
}

}  // namespace certctl::gateways::http
