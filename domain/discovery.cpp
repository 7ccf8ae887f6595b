#include "domain/discovery.hpp"

#include <cctype>

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

/// The reference's agent_id of a finding: the agent for filesystem scans, the sentinel
/// "server-scanner" for the server's own TLS probes (the network scanner, and the endpoint
/// health checks, whose source stays "health-check"), and the source's own sentinel id for
/// the cloud sources ("cloud-aws-sm", ...), so `?agent_id=` filters every source alike.
std::string discovery_agent_id(const std::string& source, const std::string& source_id) {
  if (source == "server-scanner" || source == "health-check") return "server-scanner";
  return source_id;
}

/// Fields of discovered_certificate.record that describe the certificate itself (the same
/// wherever it was found), and those that describe one location.
const std::initializer_list<std::pair<const char*, char>> certificate_fields = {
    {"fingerprint_sha256", 's'}, {"common_name", 's'}, {"sans", 'a'},       {"serial_number", 's'},
    {"issuer_dn", 's'},          {"subject_dn", 's'},  {"not_before", 's'}, {"not_after", 's'},
    {"key_algorithm", 's'},      {"key_size", 'i'},    {"is_ca", 'b'}};
const std::initializer_list<std::pair<const char*, char>> location_fields = {
    {"source", 's'},        {"source_id", 's'},   {"source_path", 's'},
    {"source_format", 's'}, {"tls_version", 's'}, {"discovery_scan_id", 's'}};

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

/// The location part of a payload as its own object.
events::json_object location_of(const events::json_object& p, const std::string& at) {
  events::json_object l;
  for (const auto& [f, k] : location_fields)
    if (p.has(f) && f != std::string("discovery_scan_id")) l.set_raw(f, p.raw(f));
  l.set("last_seen_at", at);
  return l;
}

std::string array_of(const std::vector<events::json_object>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i].dump();
  return out + "]";
}

class discovered_certificate final : public view_aggregate {
 public:
  using view_aggregate::view_aggregate;
  std::string kind() const override { return "discovered_certificate"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    fold_discovered_certificate(view_, id_, e, p);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "discovered_certificate.record") return record(c.body);
    if (!exists()) return not_found("discovered certificate " + id_ + " not found");
    const std::string status = view_.str("status");
    if (c.name == "discovered_certificate.claim") {
      if (auto err = require_strings(c.body, {"managed_certificate_id"})) return *err;
      const std::string target = c.body.str("managed_certificate_id");
      if (status == "Managed") {
        if (view_.str("managed_certificate_id") == target) return decision{};
        return conflict("discovered certificate " + id_ + " is already claimed by " +
                        view_.str("managed_certificate_id"));
      }
      events::json_object p;
      p.set("managed_certificate_id", target);
      return decision{{"discovered_certificate.claimed", p}};
    }
    if (c.name == "discovered_certificate.dismiss") {
      if (status == "Dismissed") return decision{};
      if (status == "Managed")
        return conflict("discovered certificate " + id_ + " is claimed by " +
                        view_.str("managed_certificate_id") + "; it cannot be dismissed");
      return decision{{"discovered_certificate.dismissed", events::json_object{}}};
    }
    return invalid("unknown command " + c.name);
  }

 private:
  result<decision, domain_error> record(const events::json_object& b) const {
    if (auto err = check_fields(b, certificate_fields)) return *err;
    if (auto err = check_fields(b, location_fields)) return *err;
    if (auto err = require_strings(b, {"fingerprint_sha256", "source", "source_path"})) return *err;
    const std::string fp = b.str("fingerprint_sha256");
    if (!is_hex64(fp))
      return invalid("field 'fingerprint_sha256' must be 64 lower-case hex digits");
    if (discovered_certificate_id(fp) != id_)
      return invalid("fingerprint " + fp + " does not belong to entity " + id_);
    events::json_object p;
    if (!exists()) {
      for (const auto& [f, k] : certificate_fields)
        if (b.has(f) && !b.is_null(f)) p.set_raw(f, b.raw(f));
      for (const auto& [f, k] : location_fields)
        if (b.has(f) && !b.is_null(f)) p.set_raw(f, b.raw(f));
      return decision{{"discovered_certificate.discovered", p}};
    }
    if (view_.str("fingerprint_sha256") != fp)
      return conflict("entity " + id_ + " holds another fingerprint");
    for (const auto& [f, k] : location_fields)
      if (b.has(f) && !b.is_null(f)) p.set_raw(f, b.raw(f));
    return decision{{"discovered_certificate.seen", p}};
  }
};

class discovery_scan final : public view_aggregate {
 public:
  using view_aggregate::view_aggregate;
  std::string kind() const override { return "discovery_scan"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    fold_discovery_scan(view_, id_, e, p);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name != "discovery_scan.record") return invalid("unknown command " + c.name);
    if (exists()) return conflict("discovery scan " + id_ + " already exists");
    const auto& b = c.body;
    if (auto err = check_fields(b, {{"source", 's'},
                                    {"source_id", 's'},
                                    {"directories", 'a'},
                                    {"certificates_found", 'i'},
                                    {"certificates_new", 'i'},
                                    {"errors", 'a'},
                                    {"scan_duration_ms", 'i'},
                                    {"started_at", 's'}}))
      return *err;
    if (auto err = require_strings(b, {"source"})) return *err;
    if (b.int64("certificates_found") < 0 || b.int64("certificates_new") < 0 ||
        b.int64("certificates_new") > b.int64("certificates_found") ||
        b.int64("scan_duration_ms") < 0)
      return invalid("scan counts must be >= 0 and certificates_new <= certificates_found");
    events::json_object p;
    p.set("source", b.str("source"))
        .set("source_id", b.str("source_id"))
        .set("directories", b.str_array("directories"))
        .set("certificates_found", b.int64("certificates_found"))
        .set("certificates_new", b.int64("certificates_new"))
        .set("errors", b.str_array("errors"))
        .set("scan_duration_ms", b.int64("scan_duration_ms"))
        .set("started_at", b.str("started_at", events::format_rfc3339(c.now)));
    return decision{{"discovery_scan.completed", p}};
  }
};

}  // namespace

std::string discovered_certificate_id(const std::string& fingerprint_sha256_hex) {
  std::string hex;
  for (char c : fingerprint_sha256_hex.substr(0, 32))
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "dc-" + hex;
}

bool fold_discovered_certificate(events::json_object& view, const std::string& id,
                                 const events::recorded_event& e,
                                 const events::json_object& payload) {
  const auto& p = payload;
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "discovered_certificate.discovered") {
    view = events::json_object{};
    view.set("id", id);
    for (const auto& [f, k] : certificate_fields)
      if (p.has(f)) view.set_raw(f, p.raw(f));
    for (const char* f : {"not_before", "not_after"})
      if (!view.has(f)) view.set_null(f);
    if (!view.has("sans")) view.set("sans", std::vector<std::string>{});
    view.set("source", p.str("source"))
        .set("source_path", p.str("source_path"))
        .set("source_format", p.str("source_format"))
        .set("agent_id", discovery_agent_id(p.str("source"), p.str("source_id")))
        .set("status", "Unmanaged")
        .set_null("managed_certificate_id")
        .set("first_seen_at", at)
        .set("created_at", at)
        .set("times_seen", std::int64_t{1})
        .set_raw("locations", array_of({location_of(p, at)}));
    if (p.has("discovery_scan_id"))
      view.set("discovery_scan_id", p.str("discovery_scan_id"));
    else
      view.set_null("discovery_scan_id");
  } else if (e.type == "discovered_certificate.seen") {
    // The most recently seen location goes last; past max_discovery_locations the least
    // recently seen one is dropped, so a certificate served by thousands of endpoints costs
    // each sighting a bounded fold, not one that grows with every endpoint ever seen.
    auto locations = view.object_array("locations");
    for (auto l = locations.begin(); l != locations.end(); ++l) {
      if (l->str("source") == p.str("source") && l->str("source_id") == p.str("source_id") &&
          l->str("source_path") == p.str("source_path")) {
        locations.erase(l);
        break;
      }
    }
    locations.push_back(location_of(p, at));
    if (locations.size() > max_discovery_locations) {
      locations.erase(locations.begin(),
                      locations.begin() +
                          static_cast<std::ptrdiff_t>(locations.size() - max_discovery_locations));
      view.set("locations_truncated", true);
    }
    view.set_raw("locations", array_of(locations)).set("times_seen", view.int64("times_seen") + 1);
    if (p.has("discovery_scan_id")) view.set("discovery_scan_id", p.str("discovery_scan_id"));
  } else if (e.type == "discovered_certificate.claimed") {
    view.set("status", "Managed").set("managed_certificate_id", p.str("managed_certificate_id"));
  } else if (e.type == "discovered_certificate.dismissed") {
    view.set("status", "Dismissed");
  } else {
    return false;
  }
  if (e.type != "discovered_certificate.claimed" && e.type != "discovered_certificate.dismissed")
    view.set("last_seen_at", at);
  view.set("updated_at", at);
  return true;
}

bool fold_discovery_scan(events::json_object& view, const std::string& id,
                         const events::recorded_event& e, const events::json_object& payload) {
  if (e.type != "discovery_scan.completed") return false;
  const std::string at = events::format_rfc3339(e.occurred_at);
  view = payload;
  view.set("id", id)
      .set("agent_id", discovery_agent_id(payload.str("source"), payload.str("source_id")))
      .set("errors_count", static_cast<std::int64_t>(payload.str_array("errors").size()))
      .set("completed_at", at);
  return true;
}

std::unique_ptr<aggregate> make_discovered_certificate(const std::string& id) {
  return std::make_unique<discovered_certificate>(id);
}

std::unique_ptr<aggregate> make_discovery_scan(const std::string& id) {
  return std::make_unique<discovery_scan>(id);
}

}  // namespace certctl::domain
