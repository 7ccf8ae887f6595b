#pragma once
/// PRIVATE to infra/crypto: where key_store keeps its sealed blobs. Two tables implement it:
/// sealed_db (a SQLite file of this node) and shared_sealed_table (a table of the shared
/// PostgreSQL database, so every cluster node reads every key). Both see only ciphertext.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto::detail {

class sealed_table {
 public:
  enum class write_kind {
    upsert,            ///< insert or replace
    insert_new,        ///< insert unless the id exists (imports must not clobber newer keys)
    erase,             ///< delete; absent ids are fine
    replace_if_equal,  ///< replace only while the row still holds `expected` (re-sealing)
  };
  struct write {
    write_kind kind = write_kind::upsert;
    std::string id;
    bytes sealed;    ///< unused for erase
    bytes expected;  ///< replace_if_equal only
  };

  virtual ~sealed_table() = default;

  /// Applies `writes` atomically, in order, and waits until they are durable.
  virtual crypto_result<done> apply(std::vector<write> writes) = 0;
  /// The blob stored under `id`, or nullopt.
  virtual crypto_result<std::optional<bytes>> find(std::string_view id) const = 0;
  /// True when `id` has a row.
  virtual crypto_result<bool> contains(std::string_view id) const = 0;
  /// Every id, in no particular order (for re-sealing under a new key-encryption key).
  virtual crypto_result<std::vector<std::string>> ids() const = 0;
  /// Where the blobs are, for diagnostics (a file path, or a table name).
  virtual const std::string& location() const = 0;
};

}  // namespace certctl::crypto::detail
