#include "gateways/acme/shared_nonce_log.hpp"

#include <atomic>
#include <chrono>
#include <memory>

namespace certctl::gateways::acme {

namespace {

constexpr std::int64_t sweep_every_seconds = 30;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

result<nonce_recorder, std::string> make_shared_nonce_log(sql::database& db) {
  const std::string create =
      "CREATE TABLE IF NOT EXISTS acme_used_nonces("
      "nonce TEXT PRIMARY KEY NOT NULL, expires_at BIGINT NOT NULL)";
  // Nodes starting together may race on the catalog; the second attempt sees the table.
  auto made = db.exec(create);
  if (!made) made = db.exec(create);
  if (!made) return "acme_used_nonces: " + made.error().message;
  auto last_sweep = std::make_shared<std::atomic<std::int64_t>>(0);
  return nonce_recorder([&db, last_sweep](const std::string& nonce,
                                          std::int64_t expires_unix) -> std::optional<bool> {
    const std::int64_t now = unix_now();
    std::int64_t last = last_sweep->load();
    if (now - last >= sweep_every_seconds && last_sweep->compare_exchange_strong(last, now))
      (void)db.exec("DELETE FROM acme_used_nonces WHERE expires_at < ?", {now});
    auto inserted = db.exec(
        "INSERT INTO acme_used_nonces(nonce, expires_at) VALUES(?, ?) "
        "ON CONFLICT (nonce) DO NOTHING",
        {nonce, expires_unix});
    if (!inserted) return std::nullopt;
    return *inserted == 1;
  });
}

}  // namespace certctl::gateways::acme
