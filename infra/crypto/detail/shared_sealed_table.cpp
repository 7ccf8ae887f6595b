#include "infra/crypto/detail/shared_sealed_table.hpp"

#include "infra/crypto/jwk.hpp"
#include "infra/sql/database.hpp"

namespace certctl::crypto::detail {

namespace {

crypto_error db_error(std::string_view what, const sql::db_error& e) {
  return crypto_error{"shared key store: " + std::string(what) + ": " + e.message};
}

std::string encode(const bytes& b) {
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

const std::string create_sql =
    "CREATE TABLE IF NOT EXISTS shared_sealed_keys("
    "id TEXT PRIMARY KEY NOT NULL, sealed TEXT NOT NULL)";

}  // namespace

crypto_result<std::unique_ptr<shared_sealed_table>> shared_sealed_table::open(
    std::shared_ptr<sql::database> db) {
  // Two nodes starting together may both try to create the table; PostgreSQL can then refuse
  // the second CREATE ... IF NOT EXISTS with a duplicate catalog row. The retry sees the table.
  auto made = db->exec(create_sql);
  if (!made) made = db->exec(create_sql);
  if (!made) return db_error("create table", made.error());
  return std::unique_ptr<shared_sealed_table>(new shared_sealed_table(std::move(db)));
}

crypto_result<done> shared_sealed_table::apply(std::vector<write> writes) {
  auto tx = db_->begin();
  if (!tx) return db_error("begin", tx.error());
  for (const write& w : writes) {
    sql::db_result<std::int64_t> r = std::int64_t{0};
    switch (w.kind) {
      case write_kind::upsert:
        r = tx->exec(
            "INSERT INTO shared_sealed_keys(id, sealed) VALUES(?, ?) "
            "ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed",
            {w.id, encode(w.sealed)});
        break;
      case write_kind::insert_new:
        r = tx->exec(
            "INSERT INTO shared_sealed_keys(id, sealed) VALUES(?, ?) ON CONFLICT (id) DO NOTHING",
            {w.id, encode(w.sealed)});
        break;
      case write_kind::erase:
        r = tx->exec("DELETE FROM shared_sealed_keys WHERE id = ?", {w.id});
        break;
      case write_kind::replace_if_equal:
        r = tx->exec("UPDATE shared_sealed_keys SET sealed = ? WHERE id = ? AND sealed = ?",
                     {encode(w.sealed), w.id, encode(w.expected)});
        break;
    }
    if (!r) return db_error("write \"" + w.id + "\"", r.error());
  }
  if (auto c = tx->commit(); !c) return db_error("commit", c.error());
  return done{};
}

crypto_result<std::optional<bytes>> shared_sealed_table::find(std::string_view id) const {
  auto rows = db_->query("SELECT sealed FROM shared_sealed_keys WHERE id = ?", {std::string(id)});
  if (!rows) return db_error("read", rows.error());
  std::optional<bytes> out;
  if (rows->empty()) return out;
  auto text = rows->front().text(0);
  auto raw = text ? base64url_decode(*text) : std::nullopt;
  if (!raw)
    return crypto_error{"shared key store: row \"" + std::string(id) + "\" is not base64url"};
  out.emplace(raw->begin(), raw->end());
  return out;
}

crypto_result<bool> shared_sealed_table::contains(std::string_view id) const {
  auto rows = db_->query("SELECT 1 FROM shared_sealed_keys WHERE id = ?", {std::string(id)});
  if (!rows) return db_error("read", rows.error());
  return !rows->empty();
}

crypto_result<std::vector<std::string>> shared_sealed_table::ids() const {
  auto rows = db_->query("SELECT id FROM shared_sealed_keys");
  if (!rows) return db_error("list", rows.error());
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(r.text(0).value_or(""));
  return out;
}

}  // namespace certctl::crypto::detail
