#include "tools/server/governance_adapter.hpp"

#include <iostream>

#include "projections/approval_projection.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"
#include "projections/policy_violation_projection.hpp"

namespace certctl::server {

std::vector<events::json_object> governance_adapter::policies() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (loaded_ && now - read_at_ < std::chrono::seconds(1)) return rules_;
  std::vector<events::json_object> fresh;
  for (std::int64_t page = 1;; ++page) {
    auto p = projections::list_resources(*db_, "policy", page, 500);
    if (!p) {
      // Fail with the rules last read rather than with none: an unreadable read model must
      // not switch governance off.
      std::cerr << "governance: reading policies failed: " << p.error().message << std::endl;
      return rules_;
    }
    for (const auto& doc : p->data)
      if (auto rule = events::json_object::parse(doc)) fresh.push_back(std::move(*rule));
    if (static_cast<std::int64_t>(fresh.size()) >= p->total || p->data.empty()) break;
  }
  rules_ = std::move(fresh);
  read_at_ = now;
  loaded_ = true;
  return rules_;
}

std::vector<std::string> governance_adapter::recorded_violations(
    const std::string& certificate_id) {
  auto ids = projections::violation_ids_of(*db_, certificate_id);
  if (!ids) return {};  // at worst a finding is recorded again; its command id dedups it
  return std::move(*ids);
}

std::vector<schedulers::certificate_pager::row> governance_adapter::certificates_after(
    const std::string& after_id, size_t limit, std::string& error) {
  auto rows = projections::certificates_after(*db_, after_id, static_cast<std::int64_t>(limit));
  if (!rows) {
    error = rows.error().message;
    return {};
  }
  std::vector<row> out;
  for (auto& [id, doc] : *rows)
    out.push_back({id, events::json_object::parse(doc).value_or(events::json_object{})});
  return out;
}

std::vector<std::string> governance_adapter::pending_before(events::timestamp_us before,
                                                            size_t limit, std::string& error) {
  auto ids = projections::pending_approvals_before(*db_, before, static_cast<std::int64_t>(limit));
  if (!ids) {
    error = ids.error().message;
    return {};
  }
  return std::move(*ids);
}

}  // namespace certctl::server
