#pragma once
/// API keys: parsing the CERTCTL_API_KEYS_NAMED configuration, storing keys only as salted
/// SHA-256 hashes, and checking a presented bearer token against all of them in constant time.
///
/// Configuration format (comma separated, whitespace around entries ignored, empty entries
/// skipped):
///
///     name:key[:role]        role = admin | operator | viewer | agent | auditor; absent ->
///     operator
///     name:key:agent:<agent-id>   an agent key bound to one agent: it may call the agent
///     operations of that agent only (an agent key without an id may call none)
///
/// e.g. `ci:3f9a...:operator, alice:9b1c...:admin, dash:77de...:viewer`. The reference server
/// only knows the `:admin` flag (everything else is a plain key), so `name:key:admin` keeps its
/// meaning and a bare `name:key` becomes `operator` (may read and write, may not administer).
/// `agent` keys may call only the agent operations, `auditor` keys only the audit trail (see
/// http::role). Names are
/// [A-Za-z0-9._-]{1,64}; keys may not contain ':' or ','. Error messages name the entry by position
/// and name, never by key.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.hpp"
#include "gateways/http/http_types.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::http {

/// A configuration problem with keys or the key file; the message names the culprit.
struct auth_config_error {
  std::string message;
};

template <class T>
using auth_result = certctl::result<T, auth_config_error>;

/// A key as configured, before hashing. Lives only while configuration is being read.
struct named_key {
  std::string name;
  std::string key;
  role level = role::operator_;
  std::string agent_id = {};  ///< agent keys only: the agent the key is bound to
};

/// Parses the CERTCTL_API_KEYS_NAMED format above. Duplicate names or keys are errors.
auth_result<std::vector<named_key>> parse_named_keys(std::string_view spec);

/// True for names the key file and audit trail can carry verbatim: [A-Za-z0-9._-]{1,64}.
bool is_valid_key_name(std::string_view name);

inline constexpr std::size_t key_salt_bytes = 16;

/// What is kept of a key: its name, role, a random salt and SHA-256(salt || key).
struct api_key_record {
  std::string name;
  role level = role::operator_;
  std::string salt;  ///< raw bytes, key_salt_bytes long
  crypto::sha256_digest hash{};
  std::string agent_id = {};  ///< agent keys only: the agent the key is bound to
};

/// Hashes `key` with a fresh random salt.
api_key_record hash_key(const named_key& key);

/// SHA-256(salt || key).
crypto::sha256_digest salted_hash(std::string_view salt, std::string_view key);

/// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive);
/// nullopt when the header is not a well-formed bearer credential.
std::optional<std::string_view> bearer_token(std::string_view authorization);

/// Immutable set of hashed keys; safe to share between request threads.
class key_store {
 public:
  key_store() = default;
  explicit key_store(std::vector<api_key_record> records);

  /// Hashes each key (fresh salts) and forgets the plaintexts.
  static key_store from_named_keys(const std::vector<named_key>& keys);

  /// The principal whose key equals `presented`, else nullopt. Hashes the token with every
  /// record's salt and compares every digest, whatever matched earlier, so the time taken does
  /// not reveal which key (or how much of one) matched.
  std::optional<principal> authenticate(std::string_view presented) const;

  bool empty() const { return records_.empty(); }
  std::size_t size() const { return records_.size(); }
  const std::vector<api_key_record>& records() const { return records_; }

 private:
  std::vector<api_key_record> records_;
};

}  // namespace certctl::gateways::http
