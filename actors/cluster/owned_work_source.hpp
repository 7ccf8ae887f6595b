#pragma once
/// The scheduler's view of due work, narrowed to the entities this node owns (DESIGN §9):
/// every node runs the scheduler loops over the shared read models, and each acts only on its
/// own partitions, so nothing runs twice and a dead node's work moves with its partitions.

#include <functional>
#include <string>

#include "actors/schedulers/due_work_source.hpp"

namespace certctl::cluster {

class owned_work_source final : public schedulers::due_work_source {
 public:
  using ownership = std::function<bool(const std::string& stream_id)>;
  owned_work_source(schedulers::due_work_source& inner, ownership is_local)
      : inner_(inner), is_local_(std::move(is_local)) {}

  schedulers::source_result<std::vector<schedulers::due_certificate>> certificates_expiring_by(
      events::timestamp_us horizon, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_certificate>> short_lived_expired_by(
      events::timestamp_us now, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::renewal_policy_info>> renewal_policies()
      override {
    return inner_.renewal_policies();
  }
  schedulers::source_result<std::optional<schedulers::renewal_policy_info>> renewal_policy(
      const std::string& id) override {
    return inner_.renewal_policy(id);
  }
  schedulers::source_result<std::vector<schedulers::due_job>> pending_jobs_due(
      events::timestamp_us now, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_job>> jobs_awaiting_csr_since(
      events::timestamp_us before, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_job>> jobs_running_since(
      events::timestamp_us before, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_job>> jobs_awaiting_order_due(
      events::timestamp_us now, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::silent_agent>> agents_silent_since(
      events::timestamp_us before, size_t limit) override;

 private:
  schedulers::due_work_source& inner_;
  ownership is_local_;
};

}  // namespace certctl::cluster
