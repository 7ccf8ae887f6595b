#pragma once
/// Private keys (and other secrets) on disk, encrypted at rest with AES-256-GCM under a master
/// key (DESIGN §3: key material never enters an event; it lives here).
///
/// Layout: one SQLite database per store, `<dir>/keys.db` (WAL, synchronous=FULL, mode 0600 in
/// a 0700 directory), table `sealed_keys(id, sealed)` with sealed = aead_seal(master, secret,
/// "certctl-key-store/v1/" + id). Binding the id into the associated data means a blob copied
/// to another id's row fails to open.
///
/// Why a database and not a file per key: a file per key costs an inode, two fsyncs and a
/// rename per put, one at a time. Here concurrent puts share one transaction (group commit: the
/// first caller commits everything queued behind it), so one WAL fsync serves many keys.
///
/// Stores written by earlier versions (`<dir>/<id>.key` files holding "CKS1" || sealed, same
/// associated data) are imported into the database on open; the files are deleted once the
/// import is durable.

#include <memory>
#include <string>
#include <string_view>

#include "infra/crypto/aead.hpp"
#include "infra/crypto/crypto_error.hpp"

namespace certctl::crypto {

/// Ids are 1-128 characters of [A-Za-z0-9._-], not starting with '.' (safe as file names,
/// which the store used to use, and in messages).
bool valid_key_id(std::string_view id);

/// The id of a server-generated certificate key: one per certificate version
/// ("<certificate id>.<version id>"), written before the version is recorded and never
/// replaced, so a renewal that dies between the two writes leaves the current version's key in
/// place, and the key of a version never recorded is never served (no version names it).
/// Versions recorded before this scheme have their key under the certificate id alone.
std::string certificate_key_id(std::string_view certificate_id, std::string_view version_id);

/// Reads the 32-byte master key at `path`, or creates it from the CSPRNG (mode 0600) when the
/// file does not exist. Refuses a file of the wrong size or readable by group/others.
crypto_result<aead_key> load_or_create_master_key(const std::string& path);

/// Largest secret put() accepts; real keys are under 4 KiB (RSA 4096 PKCS#8 ~3.3 KiB).
inline constexpr size_t max_secret_size = 1024 * 1024;

/// Thread-safe: any number of threads may put, get and remove at once.
class key_store {
 public:
  /// Creates `directory` (mode 0700) and the database if needed, and imports legacy key files.
  static crypto_result<key_store> open(std::string directory, const aead_key& master_key);

  key_store(key_store&&) noexcept;
  key_store& operator=(key_store&&) noexcept;
  ~key_store();

  /// Stores (or replaces) the secret for `id`, atomically; durable (fsynced) when it returns.
  crypto_result<done> put(std::string_view id, std::string_view secret_pem);

  /// The secret for `id`; an error when absent, tampered with, or sealed under another key.
  crypto_result<std::string> get(std::string_view id) const;

  /// Deletes the secret for `id`, durably; removing an absent id succeeds.
  crypto_result<done> remove(std::string_view id);

  bool contains(std::string_view id) const;

  /// Where `id` is kept: the database file, shared by every id (for diagnostics and tests;
  /// contents are ciphertext).
  std::string path_of(std::string_view id) const;

  /// The database file, `<dir>/keys.db`.
  const std::string& database_path() const;

 private:
  struct impl;
  explicit key_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::crypto
