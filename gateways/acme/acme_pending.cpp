// The pending-orders limit (issue 5: "pending orders at once"): an account may have at most
// pending_orders_max orders that are pending, ready or processing. Orders are entities with no
// per-account read model, so the gateway keeps the ids of the orders it created that it has
// not yet seen turn valid or invalid. Only when that count reaches the limit are those orders
// re-read (and reconciled, which notices invalid authorizations and finished issuance), so the
// common path costs no entity reads. The tracking lives in memory, like the orders-per-hour
// window: after a restart, orders made before it no longer count.
#include "gateways/acme/acme_impl.hpp"

namespace certctl::gateways::acme {
namespace {

bool finished(const std::string& status) {
  return status == "valid" || status == "invalid";
}

}  // namespace

std::optional<problem> acme_server::impl::reserve_pending(
    const request& r, const std::string& account_id, const std::string& order_id,
    std::chrono::steady_clock::time_point expires) {
  if (opt.pending_orders_max <= 0) return std::nullopt;
  const auto limit = static_cast<size_t>(opt.pending_orders_max);
  std::vector<std::string> recheck;
  {
    std::lock_guard<std::mutex> lock(pending_mu);
    auto& mine = pending_orders[account_id];
    const auto now = std::chrono::steady_clock::now();
    for (auto it = mine.begin(); it != mine.end();)
      it = it->second <= now ? mine.erase(it) : std::next(it);
    if (mine.size() < limit) {
      mine.emplace(order_id, expires);
      return std::nullopt;
    }
    for (const auto& [id, exp] : mine) recheck.push_back(id);
  }
  // At the limit by our count: ask the orders themselves (outside the lock: entity reads).
  const std::string principal = "acme:" + account_id;
  for (const auto& id : recheck) {
    auto o = get("acme_order", id, r);
    if (!o) {
      if (o.error().status == 404) release_pending(account_id, id);
      continue;
    }
    note_order_status(reconcile(r, *o, principal));
  }
  std::lock_guard<std::mutex> lock(pending_mu);
  auto& mine = pending_orders[account_id];
  if (mine.size() < limit) {
    mine.emplace(order_id, expires);
    return std::nullopt;
  }
  problem p{"rateLimited", 429,
            "this account has " + std::to_string(mine.size()) +
                " orders pending, ready or processing; the limit is " +
                std::to_string(opt.pending_orders_max) +
                ": finalize or abandon some (they expire) before ordering more"};
  p.retry_after_seconds = 60;
  return p;
}

void acme_server::impl::release_pending(const std::string& account_id,
                                        const std::string& order_id) {
  std::lock_guard<std::mutex> lock(pending_mu);
  auto it = pending_orders.find(account_id);
  if (it == pending_orders.end()) return;
  it->second.erase(order_id);
  if (it->second.empty()) pending_orders.erase(it);
}

void acme_server::impl::note_order_status(const events::json_object& order) {
  if (finished(order.str("status"))) release_pending(order.str("account_id"), order.str("id"));
}

}  // namespace certctl::gateways::acme
