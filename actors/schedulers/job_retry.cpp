#include "actors/schedulers/job_retry.hpp"

namespace certctl::schedulers {

actors::retry_schedule make_retry_schedule(due_work_source& source, const infra::clock& clock,
                                           std::chrono::seconds fallback) {
  return [&source, &clock, fallback](const actors::issuance_task& task) {
    std::int64_t seconds = fallback.count();
    const std::string policy_id = task.certificate.str("renewal_policy_id");
    if (!policy_id.empty()) {
      auto policy = source.renewal_policy(policy_id);
      if (policy && policy->has_value() && (*policy)->retry_interval_seconds > 0)
        seconds = (*policy)->retry_interval_seconds;
    }
    return clock.now() + seconds * 1000000LL;
  };
}

}  // namespace certctl::schedulers
