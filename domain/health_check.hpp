#pragma once
/// An endpoint health check (issue 16 item 2; the reference's EndpointHealthCheck), one entity
/// per monitored TLS endpoint (stream "health_check-<id>"). A prober (actors/schedulers/
/// health_probe) reads the certificate the endpoint serves and sends the outcome here as
/// health_check.record_probe; this entity decides the status.
///
///              probe ok, fingerprint matches, not expiring
///   (none) ---------------------------------------------------> Healthy
///     |  \---- probe ok, leaf expires within degraded_within_days --> Degraded
///     |   \--- probe ok, leaf is not expected_fingerprint ----------> CertMismatch
///      \------ failure_threshold consecutive failed probes ----------> Down
///   (any status moves to any other by the same rules; fewer failures than the threshold
///    keep the status it had)
///
/// Every probe leaves one event: health_check.status_changed when the status moves (it
/// carries the probe), health_check.probed otherwise (the last-probe summary). A status change
/// clears an earlier acknowledgement; health_check.acknowledged records who saw the incident.
///
/// Commands (body fields):
///   health_check.create       endpoint (host:port); check_interval_seconds (300), timeout_ms
///                             (5000), expected_fingerprint (SHA-256 hex, colons allowed),
///                             certificate_id, network_scan_target_id, failure_threshold (3),
///                             degraded_within_days (30), enabled (true)
///   health_check.update       any of the above
///   health_check.delete       {}
///   health_check.record_probe ok (bool), checked_at (RFC 3339); response_time_ms,
///                             observed_fingerprint, serial, cert_subject, cert_issuer,
///                             cert_not_before, cert_not_after (RFC 3339), failure_reason
///   health_check.acknowledge  acknowledged_by (default: the principal), note

#include <memory>
#include <optional>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_health_check(const std::string& id);

/// Folds one health check event into the API view; shared with the read model. Returns false
/// for event types it does not know.
bool fold_health_check(events::json_object& view, bool& deleted, const std::string& id,
                       const events::recorded_event& e);

/// The probe record (the reference's HealthHistoryEntry) of a status_changed or probed event;
/// nullopt for other events.
std::optional<events::json_object> health_history_entry(const std::string& check_id,
                                                        const events::recorded_event& e);

/// "host:port" with a non-empty host and a port in 1..65535 ("[v6]:port" for IPv6 literals).
bool split_endpoint(const std::string& endpoint, std::string& host, int& port);

}  // namespace certctl::domain
