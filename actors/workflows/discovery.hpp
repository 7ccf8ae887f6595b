#pragma once
/// The one discovery pipeline (issue 12): every source of found certificates (the agent's
/// filesystem scan today; network scans and cloud sources later) hands its findings here.
/// Each certificate is parsed on the server (what a source claims about it is not trusted),
/// identified by the SHA-256 fingerprint of its DER and recorded on its
/// `discovered_certificate` entity (domain/discovery.hpp): the first sighting anywhere creates
/// it, later ones add locations. The scan itself becomes a `discovery_scan` entity.
///
///   report -> per item: parse DER/PEM -> fingerprint -> discovered_certificate.record
///          -> discovery_scan.record {found, new, errors}

#include <cstdint>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"

namespace certctl::actors {

/// Caps that keep one report from monopolising the server.
inline constexpr size_t max_discovery_items = 5000;
inline constexpr size_t max_discovery_errors = 1000;

struct discovered_item {
  std::string source_path;    ///< where it was found (file path, host:port, ARN, ...)
  std::string source_format;  ///< "PEM" or "DER" (informational)
  std::string pem;            ///< the certificate, PEM (DER findings are converted first)
  std::string tls_version;    ///< network findings: the version the endpoint negotiated
};

struct discovery_report {
  std::string source;     ///< "agent", "network", ...
  std::string source_id;  ///< the agent id, scan target id, ...
  std::vector<std::string> directories;
  std::vector<discovered_item> items;
  std::vector<std::string> errors;  ///< what the source could not read
  std::int64_t scan_duration_ms = 0;
  std::string started_at;  ///< RFC 3339, as the source reports it; "" = when recorded
  std::string principal;
  std::string source_address;
  std::string correlation_id;
};

struct discovery_result {
  bool ok = false;
  std::string error;         ///< when !ok: the report was refused or the scan not recorded
  events::json_object scan;  ///< the discovery_scan view
  std::int64_t position = 0;
};

/// Records the report; items that do not parse become errors of the scan, not failures.
discovery_result record_discovery(entity_runtime& runtime, const discovery_report& report);

}  // namespace certctl::actors
