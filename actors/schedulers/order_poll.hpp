#pragma once
/// Loop 6, the order poller: hands jobs whose asynchronous CA order (ACME, and later the
/// commercial CAs; connectors with capabilities().async_orders) is pending and due for a poll
/// to the issuance service, which asks the CA on a worker thread and records the outcome on the
/// job (job.poll_order with the next poll time, or record_issued + job.complete, or job.fail).
///
/// The order's state lives in the job's events (job.order_pending / job.order_polled), and
/// "due" is read from the jobs read model, so a restarted server resumes every pending order
/// from its next poll time. A job is handed off once per scheduled_at: the worker's
/// job.poll_order moves scheduled_at, and a hand-off lost in a crash is repeated after
/// `rehand_after`.

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"

namespace certctl::schedulers {

/// Polls one job's order on a worker (actors::issuance_service::poll_order); returns at once.
using order_poll_handoff = std::function<void(const due_job& job, const std::string& correlation)>;

struct order_poll_options {
  order_poll_handoff poll;  ///< empty: the loop does nothing
  std::chrono::seconds rehand_after{120};
  size_t batch = 100;  ///< jobs per tick
};

class order_poll {
 public:
  order_poll(due_work_source& source, order_poll_options options);

  tick_report tick(events::timestamp_us now);

 private:
  due_work_source& source_;
  order_poll_options options_;
  struct hand_off {
    events::timestamp_us scheduled_at = 0;
    events::timestamp_us at = 0;
  };
  std::map<std::string, hand_off> handed_off_;  ///< job id -> its last hand-off
};

}  // namespace certctl::schedulers
