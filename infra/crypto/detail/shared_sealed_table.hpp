#pragma once
/// PRIVATE to infra/crypto: key_store's blobs in the shared database (cluster mode,
/// docs/cluster.md "Shared key material"): table `shared_sealed_keys(id, sealed)`, sealed as
/// base64url text (the SQL layer carries text and integers). Every node of a cluster reads and
/// writes the same rows, so a key made on one node is usable on all of them. Each write is one
/// committed transaction: durable on the database server when apply() returns.

#include <memory>

#include "infra/crypto/detail/sealed_table.hpp"

namespace certctl::sql {
class database;
}

namespace certctl::crypto::detail {

class shared_sealed_table final : public sealed_table {
 public:
  /// Creates the table if needed (concurrent nodes may race to create it: both succeed).
  static crypto_result<std::unique_ptr<shared_sealed_table>> open(
      std::shared_ptr<sql::database> db);

  crypto_result<done> apply(std::vector<write> writes) override;
  crypto_result<std::optional<bytes>> find(std::string_view id) const override;
  crypto_result<bool> contains(std::string_view id) const override;
  crypto_result<std::vector<std::string>> ids() const override;
  const std::string& location() const override { return location_; }

 private:
  explicit shared_sealed_table(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}
  std::shared_ptr<sql::database> db_;
  std::string location_ = "shared database table shared_sealed_keys";
};

}  // namespace certctl::crypto::detail
