#pragma once
/// First-start bootstrap of API keys. With no keys configured the server must not run open, so it
/// generates one admin key, stores only its salted hash in `<data_dir>/api-keys.json` (mode
/// 0600) and hands the plaintext back exactly once for the caller to print. Later starts load the
/// hashes from that file; the plaintext cannot be recovered from it.
///
/// File format (version 1):
///
///     {"format": "certctl-api-keys", "version": 1,
///      "keys": [{"name": "admin", "role": "admin", "salt": "<32 hex>", "sha256": "<64 hex>"}]}

#include <optional>
#include <string>
#include <string_view>

#include "gateways/http/api_keys.hpp"

namespace certctl::gateways::http {

inline constexpr std::string_view key_file_name = "api-keys.json";
inline constexpr std::string_view generated_key_name = "admin";

/// Where the key file lives for `data_dir`.
std::string key_file_path(const std::string& data_dir);

/// A new random key: "cc_" followed by 64 hex digits (32 bytes from the CSPRNG).
std::string generate_api_key();

/// Serialises hashed records to the file format above.
std::string render_key_file(const std::vector<api_key_record>& records);

/// Parses the file format above; errors name `path_for_messages`.
auth_result<key_store> parse_key_file(std::string_view text, const std::string& path_for_messages);

/// Reads and parses `path`. Refuses a file writable by group or others (anyone who can write it
/// can grant themselves admin).
auth_result<key_store> load_key_file(const std::string& path);

/// Creates `path` (never replaces it) holding `records`, mode 0600, fsynced; false when the file
/// already exists (a racing process won; load that one instead).
auth_result<bool> create_key_file(const std::string& path,
                                  const std::vector<api_key_record>& records);

/// Result of bootstrap_keys.
struct key_bootstrap {
  key_store store;
  /// The plaintext admin key, set only on the start that generated it. Print it once; it is
  /// stored nowhere.
  std::optional<std::string> generated_key;
  /// "CERTCTL_API_KEYS_NAMED" or the key file path, for the startup log.
  std::string source;
};

/// Keys from `configured` (CERTCTL_API_KEYS_NAMED) when non-blank; else from the key file in
/// `data_dir`; else generates an admin key and the key file (creating `data_dir` with 0700).
auth_result<key_bootstrap> bootstrap_keys(std::string_view configured, const std::string& data_dir);

}  // namespace certctl::gateways::http
