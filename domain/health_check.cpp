#include "domain/health_check.hpp"

#include <cctype>

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

constexpr std::int64_t us_per_day = 86400LL * 1000000LL;

/// The probe fields a status_changed or probed event copies from record_probe.
const char* const probe_strings[] = {"observed_fingerprint", "serial",          "cert_subject",
                                     "cert_issuer",          "cert_not_before", "cert_not_after",
                                     "failure_reason",       "tls_version",     "cipher_suite"};

/// Lower-case hex without separators, or "" when `text` is not a SHA-256 fingerprint.
std::string normalized_fingerprint(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return "";
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  return out.size() == 64 ? out : "";
}

std::optional<domain_error> int_between(const events::json_object& b, const char* f,
                                        std::int64_t lo, std::int64_t hi) {
  if (!b.has(f)) return std::nullopt;
  const auto v = b.int64(f, lo - 1);
  if (v < lo || v > hi)
    return invalid(std::string("field '") + f + "' must be between " + std::to_string(lo) +
                   " and " + std::to_string(hi));
  return std::nullopt;
}

/// The configuration fields of a create or update body, checked and normalised.
result<events::json_object, domain_error> settings_of(const events::json_object& b) {
  if (auto err = check_fields(b, {{"endpoint", 's'},
                                  {"check_interval_seconds", 'i'},
                                  {"timeout_ms", 'i'},
                                  {"expected_fingerprint", 's'},
                                  {"certificate_id", 's'},
                                  {"network_scan_target_id", 's'},
                                  {"failure_threshold", 'i'},
                                  {"degraded_within_days", 'i'},
                                  {"enabled", 'b'}}))
    return *err;
  // The API's minimum interval (30 s by default) is the gateway's to enforce: it is
  // configuration, and tests probe faster.
  if (auto e = int_between(b, "check_interval_seconds", 1, 7 * 86400)) return *e;
  if (auto e = int_between(b, "timeout_ms", 100, 60000)) return *e;
  if (auto e = int_between(b, "failure_threshold", 1, 100)) return *e;
  if (auto e = int_between(b, "degraded_within_days", 0, 3650)) return *e;
  events::json_object out;
  if (b.is_string("endpoint")) {
    std::string host;
    int port = 0;
    if (!split_endpoint(b.str("endpoint"), host, port))
      return invalid("field 'endpoint' must be host:port with a port between 1 and 65535");
    out.set("endpoint", b.str("endpoint"));
  }
  for (const char* f :
       {"check_interval_seconds", "timeout_ms", "failure_threshold", "degraded_within_days"})
    if (b.is_int(f)) out.set(f, b.int64(f));
  if (b.is_bool("enabled")) out.set("enabled", b.boolean("enabled"));
  for (const char* f : {"certificate_id", "network_scan_target_id"})
    if (b.is_string(f)) out.set(f, b.str(f));
  if (b.is_string("expected_fingerprint")) {
    // "" clears the pin; anything else must be a SHA-256 fingerprint.
    const auto raw = b.str("expected_fingerprint");
    const auto fp = normalized_fingerprint(raw);
    if (!raw.empty() && fp.empty())
      return invalid("field 'expected_fingerprint' must be a SHA-256 fingerprint (64 hex digits)");
    out.set("expected_fingerprint", fp);
  }
  return out;
}

class health_check final : public aggregate {
 public:
  explicit health_check(std::string id) : id_(std::move(id)) {}

  std::string kind() const override { return "health_check"; }
  bool exists() const override { return view_.has("id") && !deleted_; }
  void apply(const events::recorded_event& e) override {
    fold_health_check(view_, deleted_, id_, e);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "health_check.create") {
      if (exists()) return conflict("health check " + id_ + " already exists");
      if (!c.body.is_string("endpoint") || c.body.str("endpoint").empty())
        return invalid("field 'endpoint' is required");
      auto s = settings_of(c.body);
      if (!s) return s.error();
      events::json_object doc;
      doc.set("check_interval_seconds", 300)
          .set("timeout_ms", 5000)
          .set("failure_threshold", 3)
          .set("degraded_within_days", 30)
          .set("enabled", true);
      doc.merge(*s);
      if (doc.str("expected_fingerprint").empty()) doc.remove("expected_fingerprint");
      return decision{{"health_check.created", doc}};
    }
    if (!exists()) return not_found("health check " + id_ + " not found");
    if (c.name == "health_check.update") {
      auto s = settings_of(c.body);
      if (!s) return s.error();
      if (s->keys().empty()) return decision{};
      return decision{{"health_check.updated", *s}};
    }
    if (c.name == "health_check.delete") return decision{{"health_check.deleted", {}}};
    if (c.name == "health_check.record_probe") return record_probe(c);
    if (c.name == "health_check.acknowledge") return acknowledge(c);
    return invalid("unknown command " + c.name);
  }

  events::json_object view() const override { return view_; }
  events::json_object snapshot() const override {
    events::json_object s;
    s.set_raw("view", view_.dump()).set("deleted", deleted_);
    return s;
  }
  void restore(const events::json_object& snapshot) override {
    view_ = events::json_object::parse(snapshot.raw("view")).value_or(events::json_object{});
    deleted_ = snapshot.boolean("deleted");
  }

 private:
  /// Decides the status a probe implies (see the header's diagram) and records the probe.
  result<decision, domain_error> record_probe(const command& c) const {
    const auto& b = c.body;
    if (auto err = check_fields(b, {{"ok", 'b'}, {"checked_at", 's'}, {"response_time_ms", 'i'}}))
      return *err;
    if (!b.is_bool("ok")) return invalid("field 'ok' is required");
    if (!events::parse_rfc3339(b.str("checked_at")))
      return invalid("field 'checked_at' must be an RFC 3339 time");
    for (const char* f : probe_strings)
      if (b.has(f) && !b.is_string(f))
        return invalid(std::string("field '") + f + "' must be a string");
    if (!view_.boolean("enabled", true)) return conflict("health check " + id_ + " is disabled");

    const std::string before = view_.str("status");
    std::string status = before;
    std::string reason = b.str("failure_reason");
    std::int64_t failures = 0;
    if (b.boolean("ok")) {
      const auto expected = view_.str("expected_fingerprint");
      const auto observed = normalized_fingerprint(b.str("observed_fingerprint"));
      const auto not_after = events::parse_rfc3339(b.str("cert_not_after"));
      const auto window = view_.int64("degraded_within_days", 30) * us_per_day;
      if (!expected.empty() && observed != expected) {
        status = "CertMismatch";
        reason = "the endpoint serves " + (observed.empty() ? "an unknown certificate" : observed) +
                 ", expected " + expected;
      } else if (not_after && *not_after - c.now <= window) {
        status = "Degraded";
        reason = *not_after <= c.now
                     ? "the served certificate expired at " + b.str("cert_not_after")
                     : "the served certificate expires at " + b.str("cert_not_after");
      } else {
        status = "Healthy";
        reason.clear();
      }
    } else {
      failures = view_.int64("consecutive_failures", 0) + 1;
      if (failures >= view_.int64("failure_threshold", 3)) status = "Down";
      if (reason.empty()) reason = "probe failed";
    }

    events::json_object p;
    p.set("ok", b.boolean("ok")).set("checked_at", b.str("checked_at"));
    p.set("consecutive_failures", failures);
    if (b.is_int("response_time_ms")) p.set("response_time_ms", b.int64("response_time_ms"));
    for (const char* f : probe_strings)
      if (b.is_string(f) && !b.str(f).empty() && std::string(f) != "failure_reason")
        p.set(f, b.str(f).substr(0, 1024));
    if (!reason.empty()) p.set("failure_reason", reason.substr(0, 1024));
    if (status != before) {
      p.set("to", status);
      if (!before.empty()) p.set("from", before);
      return decision{{"health_check.status_changed", p}};
    }
    if (!status.empty()) p.set("status", status);
    return decision{{"health_check.probed", p}};
  }

  /// Records who saw the current incident; acknowledging it twice changes nothing.
  result<decision, domain_error> acknowledge(const command& c) const {
    if (auto err = check_fields(c.body, {{"acknowledged_by", 's'}, {"note", 's'}})) return *err;
    if (view_.boolean("acknowledged")) return decision{};
    events::json_object p;
    const auto by = c.body.str("acknowledged_by");
    p.set("acknowledged_by", (by.empty() ? c.principal : by).substr(0, 255));
    if (c.body.is_string("note") && !c.body.str("note").empty())
      p.set("note", c.body.str("note").substr(0, 1024));
    if (view_.has("status")) p.set("status", view_.str("status"));
    return decision{{"health_check.acknowledged", p}};
  }

  std::string id_;
  events::json_object view_;
  bool deleted_ = false;
};

/// The last-probe fields of the view, from a status_changed or probed payload.
void fold_probe(events::json_object& view, const events::json_object& p, const std::string& at) {
  const auto checked = p.str("checked_at", at);
  view.set("last_checked_at", checked).set("consecutive_failures", p.int64("consecutive_failures"));
  if (p.boolean("ok")) {
    view.set("last_success_at", checked);
    for (const char* f : {"observed_fingerprint", "cert_not_after"})
      if (p.has(f)) view.set(f, p.str(f));
  } else {
    view.set("last_failure_at", checked);
  }
  if (p.has("failure_reason"))
    view.set("failure_reason", p.str("failure_reason"));
  else
    view.remove("failure_reason");
  if (p.has("response_time_ms")) view.set("response_time_ms", p.int64("response_time_ms"));
}

}  // namespace

std::unique_ptr<aggregate> make_health_check(const std::string& id) {
  return std::make_unique<health_check>(id);
}

bool split_endpoint(const std::string& endpoint, std::string& host, int& port) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= endpoint.size()) return false;
  host = endpoint.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return false;  // a bare IPv6 literal is ambiguous: write [::1]:443
  }
  const auto digits = endpoint.substr(colon + 1);
  if (digits.size() > 5) return false;
  for (char ch : digits)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
  port = std::stoi(digits);
  for (char ch : host)
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == '/' || ch == '@') return false;
  return port >= 1 && port <= 65535;
}

bool fold_health_check(events::json_object& view, bool& deleted, const std::string& id,
                       const events::recorded_event& e) {
  if (e.type.rfind("health_check.", 0) != 0) return false;
  auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "health_check.created") {
    view = p;
    view.set("id", id)
        .set("created_at", at)
        .set("consecutive_failures", 0)
        .set("acknowledged", false);
    deleted = false;
  } else if (e.type == "health_check.updated") {
    view.merge(p);
    if (view.str("expected_fingerprint").empty()) view.remove("expected_fingerprint");
  } else if (e.type == "health_check.deleted") {
    deleted = true;
  } else if (e.type == "health_check.status_changed") {
    view.set("status", p.str("to")).set("last_transition_at", at).set("acknowledged", false);
    view.remove("acknowledged_by").remove("acknowledged_at").remove("acknowledge_note");
    fold_probe(view, p, at);
  } else if (e.type == "health_check.probed") {
    fold_probe(view, p, at);
  } else if (e.type == "health_check.acknowledged") {
    view.set("acknowledged", true)
        .set("acknowledged_by", p.str("acknowledged_by"))
        .set("acknowledged_at", at);
    if (p.has("note"))
      view.set("acknowledge_note", p.str("note"));
    else
      view.remove("acknowledge_note");
  } else {
    return false;
  }
  view.set("updated_at", at);
  return true;
}

std::optional<events::json_object> health_history_entry(const std::string& check_id,
                                                        const events::recorded_event& e) {
  if (e.type != "health_check.status_changed" && e.type != "health_check.probed")
    return std::nullopt;
  auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
  events::json_object h;
  h.set("id", check_id + "-" + std::to_string(e.stream_version)).set("health_check_id", check_id);
  const auto status = e.type == "health_check.status_changed" ? p.str("to") : p.str("status");
  if (!status.empty()) h.set("status", status);
  if (p.has("response_time_ms")) h.set("response_time_ms", p.int64("response_time_ms"));
  for (const char* f : {"observed_fingerprint", "tls_version", "cipher_suite", "cert_subject",
                        "cert_issuer", "cert_not_before", "cert_not_after", "failure_reason"})
    if (p.has(f)) h.set(f, p.str(f));
  h.set("checked_at", p.str("checked_at", events::format_rfc3339(e.occurred_at)));
  h.set("status_changed", e.type == "health_check.status_changed");
  return h;
}

}  // namespace certctl::domain
