#pragma once
/// Governance's view of the read models: for the policy engine and sweep
/// (actors/workflows/policy_engine.hpp, actors/schedulers/policy_sweep.hpp) the rules, the
/// violations already recorded and the inventory page by page; for the approval expiry loop
/// the pending requests. Rules are read at most once a second: issuance
/// checks them on every attempt, and a rule change reaches the checks within that second.

#include <chrono>
#include <memory>
#include <mutex>

#include "actors/schedulers/approval_expiry.hpp"
#include "actors/schedulers/policy_sweep.hpp"
#include "actors/workflows/policy_engine.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class governance_adapter final : public actors::policy_source,
                                 public schedulers::certificate_pager,
                                 public schedulers::pending_approvals {
 public:
  explicit governance_adapter(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

  std::vector<events::json_object> policies() override;
  std::vector<std::string> recorded_violations(const std::string& certificate_id) override;
  std::vector<row> certificates_after(const std::string& after_id, size_t limit,
                                      std::string& error) override;
  std::vector<std::string> pending_before(events::timestamp_us before, size_t limit,
                                          std::string& error) override;

 private:
  std::shared_ptr<sql::database> db_;
  std::mutex mu_;
  std::vector<events::json_object> rules_;  ///< guarded by mu_
  std::chrono::steady_clock::time_point read_at_{};
  bool loaded_ = false;
};

}  // namespace certctl::server
