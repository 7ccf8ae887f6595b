#pragma once
/// The governance engine's and sweep's view of the read models (actors/workflows/
/// policy_engine.hpp, actors/schedulers/policy_sweep.hpp): the rules, the violations already
/// recorded, and the inventory page by page. Rules are read at most once a second: issuance
/// checks them on every attempt, and a rule change reaches the checks within that second.

#include <chrono>
#include <memory>
#include <mutex>

#include "actors/schedulers/policy_sweep.hpp"
#include "actors/workflows/policy_engine.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class policy_source_adapter final : public actors::policy_source,
                                    public schedulers::certificate_pager {
 public:
  explicit policy_source_adapter(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

  std::vector<events::json_object> policies() override;
  std::vector<std::string> recorded_violations(const std::string& certificate_id) override;
  std::vector<row> certificates_after(const std::string& after_id, size_t limit,
                                      std::string& error) override;

 private:
  std::shared_ptr<sql::database> db_;
  std::mutex mu_;
  std::vector<events::json_object> rules_;  ///< guarded by mu_
  std::chrono::steady_clock::time_point read_at_{};
  bool loaded_ = false;
};

}  // namespace certctl::server
