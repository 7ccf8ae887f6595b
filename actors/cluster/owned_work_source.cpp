#include "actors/cluster/owned_work_source.hpp"

#include <algorithm>

#include "domain/aggregate.hpp"

namespace certctl::cluster {
namespace {

// The inner source's limit applies before filtering, so a node may see fewer rows than the
// limit while others are due; it acts on the rest at its next tick, as the loops expect.
template <class T, class Id>
schedulers::source_result<std::vector<T>> keep_owned(schedulers::source_result<std::vector<T>> rows,
                                                     const char* kind, Id id_of,
                                                     const owned_work_source::ownership& is_local) {
  if (!rows) return rows;
  auto& v = *rows;
  v.erase(
      std::remove_if(v.begin(), v.end(),
                     [&](const T& row) { return !is_local(domain::stream_id(kind, id_of(row))); }),
      v.end());
  return rows;
}

const auto certificate_id = [](const schedulers::due_certificate& c) { return c.id; };
const auto job_id = [](const schedulers::due_job& j) { return j.id; };

}  // namespace

schedulers::source_result<std::vector<schedulers::due_certificate>>
owned_work_source::certificates_expiring_by(events::timestamp_us horizon, size_t limit) {
  return keep_owned(inner_.certificates_expiring_by(horizon, limit), "certificate", certificate_id,
                    is_local_);
}

schedulers::source_result<std::vector<schedulers::due_certificate>>
owned_work_source::short_lived_expired_by(events::timestamp_us now, size_t limit) {
  return keep_owned(inner_.short_lived_expired_by(now, limit), "certificate", certificate_id,
                    is_local_);
}

schedulers::source_result<std::vector<schedulers::due_job>> owned_work_source::pending_jobs_due(
    events::timestamp_us now, size_t limit) {
  return keep_owned(inner_.pending_jobs_due(now, limit), "job", job_id, is_local_);
}

schedulers::source_result<std::vector<schedulers::due_job>>
owned_work_source::jobs_awaiting_csr_since(events::timestamp_us before, size_t limit) {
  return keep_owned(inner_.jobs_awaiting_csr_since(before, limit), "job", job_id, is_local_);
}

schedulers::source_result<std::vector<schedulers::due_job>> owned_work_source::jobs_running_since(
    events::timestamp_us before, size_t limit) {
  return keep_owned(inner_.jobs_running_since(before, limit), "job", job_id, is_local_);
}

schedulers::source_result<std::vector<schedulers::due_job>>
owned_work_source::jobs_awaiting_order_due(events::timestamp_us now, size_t limit) {
  return keep_owned(inner_.jobs_awaiting_order_due(now, limit), "job", job_id, is_local_);
}

schedulers::source_result<std::vector<schedulers::silent_agent>>
owned_work_source::agents_silent_since(events::timestamp_us before, size_t limit) {
  return keep_owned(
      inner_.agents_silent_since(before, limit), "agent",
      [](const schedulers::silent_agent& a) { return a.id; }, is_local_);
}

}  // namespace certctl::cluster
