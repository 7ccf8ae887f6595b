#pragma once
/// Private keys (and other secrets) on disk, encrypted at rest with AES-256-GCM under a master
/// key (DESIGN §3: key material never enters an event; it lives here).
///
/// Layout: one file per id, `<dir>/<id>.key`, mode 0600 in a 0700 directory, containing
/// "CKS1" || aead_seal(master, secret, "certctl-key-store/v1/" + id). Binding the id into the
/// associated data means a file copied to another id's name fails to open.

#include <string>
#include <string_view>

#include "infra/crypto/aead.hpp"
#include "infra/crypto/crypto_error.hpp"

namespace certctl::crypto {

/// Ids are 1-128 characters of [A-Za-z0-9._-], not starting with '.': safe as file names and
/// impossible to turn into a path outside the store.
bool valid_key_id(std::string_view id);

/// Reads the 32-byte master key at `path`, or creates it from the CSPRNG (mode 0600) when the
/// file does not exist. Refuses a file of the wrong size or readable by group/others.
crypto_result<aead_key> load_or_create_master_key(const std::string& path);

class key_store {
 public:
  /// Creates `directory` (mode 0700) if needed.
  static crypto_result<key_store> open(std::string directory, const aead_key& master_key);

  /// Stores (or replaces) the secret for `id`, atomically.
  crypto_result<done> put(std::string_view id, std::string_view secret_pem);

  /// The secret for `id`; an error when absent, tampered with, or sealed under another key.
  crypto_result<std::string> get(std::string_view id) const;

  /// Deletes the secret for `id`; removing an absent id succeeds.
  crypto_result<done> remove(std::string_view id);

  bool contains(std::string_view id) const;

  /// The file that holds `id` (for diagnostics and tests; contents are ciphertext).
  std::string path_of(std::string_view id) const;

 private:
  key_store(std::string directory, const aead_key& master_key);
  std::string dir_;
  aead_key key_;
};

}  // namespace certctl::crypto
