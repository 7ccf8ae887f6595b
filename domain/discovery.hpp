#pragma once
/// What discovery found: one `discovered_certificate` entity per certificate, keyed by the
/// SHA-256 fingerprint of its DER (so the same certificate found in two places, by two agents
/// or by an agent and a network scan, is one entity with several locations), and one
/// `discovery_scan` entity per scan report. Every source (agent filesystem scan today; network
/// and cloud sources later) records through the same commands (actors/workflows/discovery.hpp).
///
///   record --> Unmanaged --claim--> Managed
///                 |  ^                 (claim again with another id: 409)
///              dismiss|claim
///                 v  |
///              Dismissed
///
/// Commands (body fields):
///   discovered_certificate.record   fingerprint_sha256, common_name, sans, serial_number,
///       issuer_dn, subject_dn, not_before, not_after (RFC 3339), key_algorithm, key_size,
///       is_ca, source ("agent", "network", ...), source_id (the agent or scan target),
///       source_path, source_format ("PEM"/"DER"), discovery_scan_id.
///       First time: discovered_certificate.discovered; later: discovered_certificate.seen
///       (a new location is added, last_seen_at moves).
///   discovered_certificate.claim    managed_certificate_id
///   discovered_certificate.dismiss  (no fields)
///   discovery_scan.record   source, source_id, directories, certificates_found,
///       certificates_new, errors, scan_duration_ms, started_at -> discovery_scan.completed

#include <cstddef>
#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_discovered_certificate(const std::string& id);
std::unique_ptr<aggregate> make_discovery_scan(const std::string& id);

/// The locations a discovered certificate's view lists, most recently seen last; older ones
/// are dropped (the view then says locations_truncated), the events keep every sighting.
inline constexpr std::size_t max_discovery_locations = 100;

/// The entity id of a discovered certificate: "dc-" + the first 32 hex digits of its
/// fingerprint (lower case), so every source maps one certificate to one entity.
std::string discovered_certificate_id(const std::string& fingerprint_sha256_hex);

/// Folds one event into a discovered certificate's API view (the aggregate and the read model
/// both use it). Returns false for a type the view does not show.
bool fold_discovered_certificate(events::json_object& view, const std::string& id,
                                 const events::recorded_event& e,
                                 const events::json_object& payload);

/// The same for a discovery scan.
bool fold_discovery_scan(events::json_object& view, const std::string& id,
                         const events::recorded_event& e, const events::json_object& payload);

}  // namespace certctl::domain
