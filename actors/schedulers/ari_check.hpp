#pragma once
/// Loop 7, ARI-driven renewal (ACME Renewal Information, RFC 9773): asks, for every Active or
/// Expiring certificate, whether its CA suggests renewing it now, and if so starts the renewal
/// the renewal check would start (same job id and command ids, so the two loops never renew one
/// certificate twice for one expiry). Where the CA has no opinion (no ARI, ari_enabled off, a
/// 404), nothing happens here and the renewal policy's thresholds apply as before (loop 1):
/// ARI can bring a renewal forward (a CA's mass revocation, a maintenance window), the
/// thresholds stay the fallback.
///
/// The renewal time is a point inside the suggested window chosen from the certificate id
/// (RFC 9773 §4.2 asks for a random point; a hash keeps repeated ticks and nodes agreeing).

#include <chrono>
#include <functional>
#include <optional>

#include "actors/schedulers/due_work_source.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "actors/workflows/renewal.hpp"

namespace certctl::schedulers {

/// The CA's suggested window for a certificate ({start, end} in microseconds), nullopt when it
/// has none; an error string when asking failed (reported, retried next tick).
struct suggested_window {
  events::timestamp_us start = 0;
  events::timestamp_us end = 0;
};
using renewal_advice =
    std::function<result<std::optional<suggested_window>, std::string>(const due_certificate&)>;

struct ari_check_options {
  renewal_advice advice;  ///< empty: the loop does nothing
  size_t batch = 500;     ///< certificates per tick
};

/// The point in `w` at which `certificate_id` renews.
events::timestamp_us renewal_point(const suggested_window& w, const std::string& certificate_id);

class ari_check {
 public:
  ari_check(actors::entity_runtime& runtime, due_work_source& source,
            actors::issuance_handoff handoff, ari_check_options options);

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  due_work_source& source_;
  actors::issuance_handoff handoff_;
  ari_check_options options_;
};

}  // namespace certctl::schedulers
