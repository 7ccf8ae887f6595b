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
///
/// Cluster mode (docs/cluster.md "Shared key material"): open_shared() keeps the same sealed
/// blobs in the shared database instead, so every node reads every key, sealed under a
/// key-encryption key (KEK) all nodes are given. Each blob there names its KEK ("CKK1" || the
/// first 8 bytes of SHA-256(KEK) || sealed), so the KEK can be rotated: the new one seals, the
/// old ones still open, and a blob read under an old KEK is re-sealed under the new one (only
/// if nobody replaced it meanwhile); reseal_all() does the same for every blob at once.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/aead.hpp"
#include "infra/crypto/crypto_error.hpp"

namespace certctl::sql {
class database;
}

namespace certctl::crypto {

namespace detail {
class sealed_table;
}

/// The key-encryption keys of a shared store: `current` seals; `previous` (older KEKs being
/// rotated out) only open.
struct key_encryption_keys {
  aead_key current{};
  std::vector<aead_key> previous;
};

/// A KEK's public name: hex of the first 8 bytes of its SHA-256 (what a sealed blob records).
std::string kek_id(const aead_key& key);

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

/// Reads an existing 32-byte key at `path` (a KEK an operator distributed); never creates one,
/// since every node must hold the same bytes. Refuses a wrong size or group/other access.
crypto_result<aead_key> load_key_file(const std::string& path);

/// Largest secret put() accepts; real keys are under 4 KiB (RSA 4096 PKCS#8 ~3.3 KiB).
inline constexpr size_t max_secret_size = 1024 * 1024;

/// Thread-safe: any number of threads may put, get and remove at once.
class key_store {
 public:
  /// Creates `directory` (mode 0700) and the database if needed, and imports legacy key files.
  static crypto_result<key_store> open(std::string directory, const aead_key& master_key);

  /// The cluster form: blobs in table shared_sealed_keys of `db` (created if needed), sealed
  /// under `keks.current`; blobs under a previous KEK are opened and re-sealed.
  static crypto_result<key_store> open_shared(std::shared_ptr<sql::database> db,
                                              key_encryption_keys keks);

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

  /// Re-seals every blob not sealed under the current KEK (after a rotation); returns how many
  /// it rewrote. A blob replaced concurrently keeps its newer value.
  crypto_result<size_t> reseal_all();

  /// Where `id` is kept: the database file, shared by every id (for diagnostics and tests;
  /// contents are ciphertext).
  std::string path_of(std::string_view id) const;

  /// The database file, `<dir>/keys.db` (for a shared store: the table's description).
  const std::string& database_path() const;

 private:
  struct impl;
  explicit key_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::crypto
