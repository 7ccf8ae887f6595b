#include "gateways/rest/auth_failure_log.hpp"

#include "events/json.hpp"
#include "events/time.hpp"

namespace certctl::gateways::rest {

auth_failure_log::auth_failure_log(store::event_store& store, const infra::clock& clock,
                                   auth_failure_log_options options)
    : store_(store), clock_(clock), options_(options) {}

auth_failure_log::~auth_failure_log() = default;

void auth_failure_log::record(const http::auth_event& e) {
  const auto now = clock_.now();
  const std::string reason(http::to_string(e.reason));
  key k{e.principal.empty() ? "anonymous" : "apikey:" + e.principal, e.remote_addr};
  std::string first_payload;
  {
    std::lock_guard<std::mutex> lock(mu_);
    close_expired_locked(now, false);
    if (open_.find(k) == open_.end() && open_.size() >= options_.max_open_windows) {
      k = key{"anonymous", "*"};
    }
    auto [it, opened] = open_.try_emplace(k);
    window_state& w = it->second;
    if (opened) {
      w.opened_at = now;
      events::json_object p;
      p.set("method", e.method)
          .set("path", e.path)
          .set("reason", reason)
          .set("count", std::int64_t{1})
          .set("window_seconds",
               static_cast<std::int64_t>(
                   std::chrono::duration_cast<std::chrono::seconds>(options_.window).count()));
      first_payload = p.dump();
    } else {
      w.more += 1;
      w.reasons[reason] += 1;
    }
    w.last_at = now;
    w.reason = reason;
    w.method = e.method;
    w.path = e.path;
    w.request_id = e.request_id;
  }
  // Outside the lock: the append queues, but a slow queue must not serialise request threads.
  if (!first_payload.empty()) append(k, first_payload, e.request_id);
}

void auth_failure_log::flush_expired() {
  std::lock_guard<std::mutex> lock(mu_);
  close_expired_locked(clock_.now(), false);
}

void auth_failure_log::flush_all() {
  std::lock_guard<std::mutex> lock(mu_);
  close_expired_locked(clock_.now(), true);
}

std::size_t auth_failure_log::open_windows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_.size();
}

void auth_failure_log::close_expired_locked(events::timestamp_us now, bool all) {
  for (auto it = open_.begin(); it != open_.end();) {
    const window_state& w = it->second;
    if (!all && now < w.opened_at + options_.window.count()) {
      ++it;
      continue;
    }
    if (w.more > 0) {
      events::json_object reasons;
      for (const auto& [reason, n] : w.reasons) reasons.set(reason.c_str(), n);
      events::json_object p;
      p.set("aggregated", true)
          .set("count", w.more)
          .set_raw("reasons", reasons.dump())
          .set("reason", w.reason)
          .set("method", w.method)
          .set("path", w.path)
          .set("first_at", events::format_rfc3339(w.opened_at))
          .set("last_at", events::format_rfc3339(w.last_at));
      append(it->first, p.dump(), w.request_id);
    }
    it = open_.erase(it);
  }
}

void auth_failure_log::append(const key& k, const std::string& payload,
                              const std::string& request_id) {
  store::append_request req;
  req.stream_id = "security-auth";
  events::proposed_event pe;
  pe.type = "auth.denied";
  pe.payload = payload;
  pe.principal = k.first;
  pe.source_address = k.second;
  pe.correlation_id = request_id;
  req.events.push_back(std::move(pe));
  store_.append_async(std::move(req), [](store::store_result<store::append_result>) {});
}

}  // namespace certctl::gateways::rest
