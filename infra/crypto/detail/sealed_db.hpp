#pragma once
/// PRIVATE to infra/crypto: the SQLite table behind key_store. Stores opaque (already sealed)
/// blobs by id and commits concurrent writers together (group commit): a caller whose write
/// finds no commit running commits everything queued so far in one transaction, so one WAL
/// fsync serves every caller in the batch; callers that arrive meanwhile queue up for the next
/// one. Every write is durable (synchronous=FULL) before its caller returns.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/detail/sealed_table.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto::detail {

class sealed_db final : public sealed_table {
 public:
  /// Opens (creating with mode 0600 if needed) the database at `path`.
  static crypto_result<std::unique_ptr<sealed_db>> open(const std::string& path);

  sealed_db(const sealed_db&) = delete;
  sealed_db& operator=(const sealed_db&) = delete;
  ~sealed_db() override;

  /// Applies `writes` atomically, in order, and waits until they are durable. Writes of
  /// concurrent callers may share the transaction; a failed transaction fails all of them.
  crypto_result<done> apply(std::vector<write> writes) override;

  /// The blob stored under `id`, or nullopt.
  crypto_result<std::optional<bytes>> find(std::string_view id) const override;

  /// True when `id` has a row.
  crypto_result<bool> contains(std::string_view id) const override;

  crypto_result<std::vector<std::string>> ids() const override;
  const std::string& location() const override { return path_; }

  const std::string& path() const { return path_; }

 private:
  struct state;
  sealed_db(std::string path, std::unique_ptr<state> s);
  std::string path_;
  std::unique_ptr<state> s_;
};

}  // namespace certctl::crypto::detail
