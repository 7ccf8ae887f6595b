#include "actors/workflows/discovery.hpp"

#include <algorithm>

#include "domain/discovery.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::actors {
namespace {

domain::command make_command(const discovery_report& r, const char* name, const std::string& id,
                             events::json_object body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = r.principal;
  c.source_address = r.source_address;
  c.correlation_id = r.correlation_id;
  return c;
}

std::vector<std::string> all_names(const crypto::subject_alt_names& s) {
  std::vector<std::string> out = s.dns;
  out.insert(out.end(), s.ip.begin(), s.ip.end());
  out.insert(out.end(), s.email.begin(), s.email.end());
  out.insert(out.end(), s.uri.begin(), s.uri.end());
  return out;
}

}  // namespace

discovery_result record_discovery(entity_runtime& runtime, const discovery_report& report) {
  discovery_result out;
  if (report.items.size() > max_discovery_items) {
    out.error = "a report holds at most " + std::to_string(max_discovery_items) + " certificates";
    return out;
  }
  const std::string scan_id = "scan-" + crypto::random_hex(8);
  std::vector<std::string> errors(
      report.errors.begin(),
      report.errors.begin() + std::min(report.errors.size(), max_discovery_errors));
  std::int64_t found = 0, fresh = 0;
  for (const auto& item : report.items) {
    auto info = crypto::parse_certificate(item.pem);
    if (!info) {
      if (errors.size() < max_discovery_errors)
        errors.push_back(item.source_path + ": " + info.error().message);
      continue;
    }
    events::json_object b;
    b.set("fingerprint_sha256", info->fingerprint_sha256_hex)
        .set("common_name", info->common_name)
        .set("sans", all_names(info->sans))
        .set("serial_number", info->serial_hex)
        .set("issuer_dn", info->issuer_dn)
        .set("subject_dn", info->subject_dn)
        .set("not_before", events::format_rfc3339(info->not_before * 1000000))
        .set("not_after", events::format_rfc3339(info->not_after * 1000000))
        .set("key_algorithm", info->key_algorithm)
        .set("key_size", static_cast<std::int64_t>(info->key_bits))
        .set("is_ca", info->is_ca)
        .set("source", report.source)
        .set("source_id", report.source_id)
        .set("source_path", item.source_path)
        .set("source_format", item.source_format)
        .set("discovery_scan_id", scan_id);
    if (!item.tls_version.empty()) b.set("tls_version", item.tls_version);
    const std::string id = domain::discovered_certificate_id(info->fingerprint_sha256_hex);
    auto recorded =
        runtime.execute("discovered_certificate",
                        make_command(report, "discovered_certificate.record", id, std::move(b)));
    if (!recorded) {
      if (errors.size() < max_discovery_errors)
        errors.push_back(item.source_path + ": " + recorded.error().message);
      continue;
    }
    ++found;
    // Commands on one entity run one at a time, so exactly one sighting sees times_seen 1.
    if (recorded->view.int64("times_seen") == 1) ++fresh;
    out.position = std::max(out.position, recorded->position);
  }
  events::json_object s;
  s.set("source", report.source)
      .set("source_id", report.source_id)
      .set("directories", report.directories)
      .set("certificates_found", found)
      .set("certificates_new", fresh)
      .set("errors", errors)
      .set("scan_duration_ms", std::max<std::int64_t>(0, report.scan_duration_ms));
  // Absent, the scan's own command time stands in (the domain's default).
  if (!report.started_at.empty()) s.set("started_at", report.started_at);
  auto scan = runtime.execute("discovery_scan",
                              make_command(report, "discovery_scan.record", scan_id, std::move(s)));
  if (!scan) {
    out.error = "recording the scan failed: " + scan.error().message;
    return out;
  }
  out.ok = true;
  out.scan = scan->view;
  out.position = std::max(out.position, scan->position);
  return out;
}

}  // namespace certctl::actors
