#include "domain/resource.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "domain/acme_account.hpp"
#include "domain/acme_authz.hpp"
#include "domain/acme_order.hpp"
#include "domain/approval.hpp"
#include "domain/certificate.hpp"
#include "domain/discovery.hpp"
#include "domain/expiry_alerts.hpp"
#include "domain/health_check.hpp"
#include "domain/intermediate.hpp"
#include "domain/job.hpp"
#include "domain/network_scan.hpp"
#include "domain/notification.hpp"
#include "domain/policy_rules.hpp"
#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

/// Field kinds: 's' string, 'i' integer, 'b' bool, 'a' array of strings, 'o' object,
/// 'n' array of integers, 'r' any array (validated by the kind's rule).
struct field_spec {
  const char* name;
  char kind;
  bool required;
  const char* default_json;  ///< nullptr: no default
};

struct kind_spec {
  std::vector<field_spec> fields;
  /// Extra rules over the merged document (create: defaults + body; update: state + body).
  std::function<std::optional<domain_error>(const events::json_object&)> rule;
};

std::optional<domain_error> int_range(const events::json_object& d, const char* f, std::int64_t lo,
                                      std::int64_t hi) {
  if (!d.has(f)) return std::nullopt;
  const auto v = d.int64(f, lo - 1);
  if (v < lo || v > hi)
    return invalid(std::string("field '") + f + "' must be between " + std::to_string(lo) +
                   " and " + std::to_string(hi));
  return std::nullopt;
}

bool is_hex(const std::string& s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/// An API key managed through the API (gateways/rest/api_key_routes): its name, role, expiry,
/// scopes, and the salted SHA-256 of the key (never the key).
std::optional<domain_error> validate_api_key(const events::json_object& d) {
  const std::string name = d.str("name");
  if (name.size() > 64 || !is_valid_id(name))
    return invalid("field 'name' must be 1-64 characters of A-Z a-z 0-9 . _ -");
  const std::string role = d.str("role");
  if (role != "admin" && role != "operator" && role != "viewer" && role != "agent" &&
      role != "auditor")
    return invalid("field 'role' must be admin, operator, viewer, agent or auditor");
  if (d.has("expires_at") && !events::parse_rfc3339(d.str("expires_at")))
    return invalid("field 'expires_at' must be an RFC 3339 date-time");
  const auto scopes = events::json_object::parse(d.has("scopes") ? d.raw("scopes") : "{}")
                          .value_or(events::json_object{});
  for (const auto& key : scopes.keys()) {
    if (key != "profile_ids" && key != "issuer_ids" && key != "team_ids" && key != "owner_ids")
      return invalid("scopes: unknown scope '" + key +
                     "' (profile_ids, issuer_ids, team_ids, owner_ids)");
    if (!scopes.is_string_array(key.c_str()))
      return invalid("scopes." + key + " must be an array of ids");
  }
  // Agent least privilege (gateways/rest/auth_agent_binding.hpp): an agent key is bound to
  // the one agent it serves; any other key names none.
  if (role == "agent" && !is_valid_id(d.str("agent_id")))
    return invalid("an agent key needs field 'agent_id' (the agent it may act for)");
  if (role != "agent" && d.has("agent_id"))
    return invalid("field 'agent_id' is only for keys of role agent");
  if (!is_hex(d.str("salt"), 32) || !is_hex(d.str("hash"), 64))
    return invalid("salt and hash must be lower-case hex of 16 and 32 bytes");
  return std::nullopt;
}

const std::map<std::string, kind_spec>& specs() {
  static const std::map<std::string, kind_spec> s = {
      {"issuer",
       {{{"name", 's', true, nullptr},
         {"type", 's', true, nullptr},
         {"config", 'o', false, "{}"},
         {"enabled", 'b', false, "true"}},
        // Which types this server accepts is not a domain rule: it is whatever connectors
        // are registered, which only the edge knows (gateways/rest checks the type and the
        // config through connectors::config_service before the command is sent). Here the
        // type is a required, non-empty string, so old issuers of any type still fold.
        nullptr}},
      {"profile",
       {{{"name", 's', true, nullptr},
         {"description", 's', false, nullptr},
         {"allowed_key_algorithms", 'r', false,
          "[{\"algorithm\":\"ECDSA\",\"min_size\":256},{\"algorithm\":\"RSA\",\"min_size\":2048}]"},
         {"max_ttl_seconds", 'i', false, "31536000"},
         {"allowed_ekus", 'a', false, "[\"serverAuth\"]"},
         {"required_san_patterns", 'a', false, "[]"},
         {"spiffe_uri_pattern", 's', false, nullptr},
         {"allow_short_lived", 'b', false, "false"},
         {"requires_approval", 'b', false, "false"},
         {"must_staple", 'b', false, "false"},
         {"enabled", 'b', false, "true"},
         // ACME server settings for /acme/profile/{id}/ (docs/acme-server.md); absent: the
         // server-wide CERTCTL_ACME_SERVER_AUTH_MODE / _EAB_REQUIRED apply.
         {"acme_auth_mode", 's', false, nullptr},
         {"acme_eab_required", 'b', false, nullptr}},
        [](const events::json_object& d) -> std::optional<domain_error> {
          if (auto e = int_range(d, "max_ttl_seconds", 60, 10LL * 366 * 86400)) return e;
          if (d.has("acme_auth_mode") && d.str("acme_auth_mode") != "trust_authenticated" &&
              d.str("acme_auth_mode") != "challenge")
            return invalid("field 'acme_auth_mode' must be trust_authenticated or challenge");
          for (const auto& eku : d.str_array("allowed_ekus")) {
            if (eku != "serverAuth" && eku != "clientAuth" && eku != "codeSigning" &&
                eku != "emailProtection" && eku != "timeStamping")
              return invalid("allowed_ekus: unknown EKU '" + eku + "'");
          }
          return std::nullopt;
        }}},
      {"renewal_policy",
       {{{"name", 's', true, nullptr},
         {"renewal_window_days", 'i', false, "30"},
         {"auto_renew", 'b', false, "true"},
         {"max_retries", 'i', false, "3"},
         {"retry_interval_seconds", 'i', false, "3600"},
         {"alert_thresholds_days", 'n', false, "[30,14,7,0]"},
         {"certificate_profile_id", 's', false, nullptr},
         // Expiry alert routing (domain/expiry_alerts.hpp); absent: the defaults.
         {"alert_severity_map", 'o', false, nullptr},
         {"alert_channels", 'o', false, nullptr},
         {"notify_on_failure_only", 'b', false, nullptr}},
        [](const events::json_object& d) -> std::optional<domain_error> {
          if (d.str("name").size() > 255)
            return invalid("field 'name' is longer than 255 characters");
          if (auto e = int_range(d, "renewal_window_days", 1, 365)) return e;
          if (auto e = int_range(d, "max_retries", 0, 10)) return e;
          if (auto e = int_range(d, "retry_interval_seconds", 60, 86400)) return e;
          if (auto e = check_alert_settings(d)) return e;
          return std::nullopt;
        }}},
      {"policy",
       {{{"name", 's', true, nullptr},
         {"type", 's', true, nullptr},
         {"config", 'o', false, "{}"},
         {"enabled", 'b', false, "true"},
         {"severity", 's', false, "\"Warning\""}},
        validate_policy}},
      {"agent_group",
       {{{"name", 's', true, nullptr},
         {"description", 's', false, nullptr},
         {"match_os", 's', false, nullptr},
         {"match_architecture", 's', false, nullptr},
         {"match_ip_cidr", 's', false, nullptr},
         {"match_version", 's', false, nullptr},
         {"enabled", 'b', false, "true"}},
        [](const events::json_object& d) -> std::optional<domain_error> {
          if (d.str("name").size() > 255)
            return invalid("field 'name' is longer than 255 characters");
          return std::nullopt;
        }}},
      {"api_key",
       {{{"name", 's', true, nullptr},
         {"role", 's', true, nullptr},
         {"description", 's', false, nullptr},
         {"expires_at", 's', false, nullptr},
         {"scopes", 'o', false, "{}"},
         {"agent_id", 's', false, nullptr},
         {"salt", 's', true, nullptr},
         {"hash", 's', true, nullptr}},
        validate_api_key}},
      {"team", {{{"name", 's', true, nullptr}, {"description", 's', false, nullptr}}, nullptr}},
      {"owner",
       {{{"name", 's', true, nullptr},
         {"email", 's', false, nullptr},
         {"team_id", 's', false, nullptr}},
        [](const events::json_object& d) -> std::optional<domain_error> {
          const auto email = d.str("email");
          if (!email.empty() && email.find('@') == std::string::npos)
            return invalid("field 'email' is not an email address");
          return std::nullopt;
        }}},
      {"agent",
       {{{"name", 's', true, nullptr},
         {"hostname", 's', false, nullptr},
         {"os", 's', false, nullptr},
         {"architecture", 's', false, nullptr},
         {"ip_address", 's', false, nullptr},
         {"version", 's', false, nullptr}},
        nullptr}},
      // A deployment target (issue 12): which connector type, run by which agent, with what
      // config. The type and config are checked against the connector registry at the edge
      // (gateways/rest/target_routes.cpp), which also seals secret fields, as for issuers.
      {"target",
       {{{"name", 's', true, nullptr},
         {"type", 's', true, nullptr},
         {"agent_id", 's', true, nullptr},
         {"config", 'o', false, "{}"},
         {"enabled", 'b', false, "true"}},
        nullptr}},
      // A network scan target (issue 16, docs/discovery.md): ranges and ports the TLS
      // scanner probes; last_scan_* arrive by network_scan_target.record_scan.
      {"network_scan_target",
       {{{"name", 's', true, nullptr},
         {"cidrs", 'a', true, nullptr},
         {"ports", 'n', false, "[443]"},
         {"enabled", 'b', false, "true"},
         {"scan_interval_hours", 'i', false, "6"},
         {"timeout_ms", 'i', false, "5000"}},
        check_network_scan_target}},
  };
  return s;
}

bool kind_ok(const events::json_object& body, const field_spec& f) {
  switch (f.kind) {
    case 's':
      return body.is_string(f.name);
    case 'i':
      return body.is_int(f.name);
    case 'b':
      return body.is_bool(f.name);
    case 'a':
      return body.is_string_array(f.name);
    case 'o':
      return body.is_object(f.name);
    case 'n': {
      if (!body.is_array(f.name)) return false;
      auto arr = events::json_object::parse("{\"v\":" + body.raw(f.name) + "}");
      const auto raw = body.raw(f.name);
      for (char c : raw)
        if (!(c == '[' || c == ']' || c == ',' || (c >= '0' && c <= '9') || c == '-')) return false;
      return arr.has_value();
    }
    case 'r':
      return body.is_array(f.name);
  }
  return false;
}

const char* kind_name(char k) {
  switch (k) {
    case 's':
      return "a string";
    case 'i':
      return "an integer";
    case 'b':
      return "a boolean";
    case 'a':
      return "an array of strings";
    case 'o':
      return "an object";
    case 'n':
      return "an array of integers";
    default:
      return "an array";
  }
}

class resource final : public aggregate {
 public:
  resource(std::string kind, std::string id, const kind_spec& spec)
      : kind_(std::move(kind)), id_(std::move(id)), spec_(spec) {}

  std::string kind() const override { return kind_; }
  bool exists() const override { return view_.has("id") && !deleted_; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    if (kind_ == "issuer" && e.type == "issuer.crl_published") {
      // Bookkeeping only: the issuer as the API shows it does not change.
      last_crl_number_ = p.int64("crl_number", last_crl_number_);
      return;
    }
    fold_resource(view_, deleted_, kind_, id_, e, p);
  }

  result<decision, domain_error> decide(const command& c) const override {
    const std::string verb = c.name.substr(c.name.find('.') + 1);
    if (verb == "create" || verb == "register") {
      if (view_.has("id") && !deleted_) return conflict(kind_ + " " + id_ + " already exists");
      events::json_object doc;
      for (const auto& f : spec_.fields)
        if (f.default_json) doc.set_raw(f.name, f.default_json);
      auto checked = checked_fields(c.body, true);
      if (!checked) return checked.error();
      doc.merge(*checked);
      if (spec_.rule)
        if (auto err = spec_.rule(doc)) return *err;
      return decision{{kind_ + (kind_ == "agent" ? ".registered" : ".created"), doc}};
    }
    if (!exists()) return not_found(kind_ + " " + id_ + " not found");
    if (kind_ == "agent" && view_.has("retired_at") && verb != "retire")
      return conflict("agent " + id_ + " is retired");
    if (verb == "update") {
      auto checked = checked_fields(c.body, false);
      if (!checked) return checked.error();
      auto merged = view_;
      merged.merge(*checked);
      if (spec_.rule)
        if (auto err = spec_.rule(merged)) return *err;
      if (checked->keys().empty()) return decision{};
      return decision{{kind_ + ".updated", *checked}};
    }
    if (verb == "delete") return decision{{kind_ + ".deleted", events::json_object{}}};
    if (kind_ == "issuer" && verb == "publish_crl") return publish_crl(c.body);
    if (kind_ == "policy" && verb == "record_violation") return record_violation(c.body);
    if (kind_ == "network_scan_target" && verb == "record_scan") return record_scan(c.body);
    if (kind_ == "agent" && verb == "heartbeat") {
      auto checked = checked_fields(c.body, false);
      if (!checked) return checked.error();
      checked->remove("name");
      return decision{{"agent.heartbeat_received", *checked}};
    }
    if (kind_ == "agent" && verb == "mark_offline") {
      if (view_.str("status") == "Offline") return decision{};
      return decision{{"agent.marked_offline", events::json_object{}}};
    }
    if (kind_ == "agent" && verb == "retire") {
      if (view_.has("retired_at")) return decision{};
      events::json_object p;
      if (c.body.is_string("reason")) p.set("reason", c.body.str("reason"));
      return decision{{"agent.retired", p}};
    }
    return invalid("unknown command " + c.name);
  }

  events::json_object view() const override { return view_; }

  events::json_object snapshot() const override {
    events::json_object s;
    s.set_raw("view", view_.dump()).set("deleted", deleted_);
    if (last_crl_number_ > 0) s.set("crl_number", last_crl_number_);
    return s;
  }

  void restore(const events::json_object& snapshot) override {
    view_ = events::json_object::parse(snapshot.raw("view")).value_or(events::json_object{});
    deleted_ = snapshot.boolean("deleted");
    last_crl_number_ = snapshot.int64("crl_number", 0);
  }

 private:
  /// issuer.publish_crl: records a CRL the publisher has signed. CRL numbers only grow (RFC
  /// 5280 §5.2.3), so a publisher that lost a race to another gets a conflict and retries with
  /// a higher number; no CRL is served before its number is in the log.
  result<decision, domain_error> publish_crl(const events::json_object& b) const {
    return decide_crl_publication(b, last_crl_number_, "issuer.crl_published");
  }

  /// policy.record_violation: a certificate found breaking this rule (at issuance or by the
  /// periodic sweep). The rule's view does not change; the violations read model lists them.
  result<decision, domain_error> record_violation(const events::json_object& b) const {
    if (auto err = require_strings(b, {"violation_id", "certificate_id", "message"})) return *err;
    events::json_object p;
    p.set("violation_id", b.str("violation_id"))
        .set("certificate_id", b.str("certificate_id"))
        .set("message", b.str("message").substr(0, 1024))
        .set("severity", view_.str("severity", "Warning"));
    return decision{{"policy.violation_recorded", p}};
  }

  /// network_scan_target.record_scan: the stats of a finished scan (the scanner sends them
  /// after the findings went through the discovery pipeline).
  result<decision, domain_error> record_scan(const events::json_object& b) const {
    if (!b.is_string("last_scan_at") || !events::parse_rfc3339(b.str("last_scan_at")))
      return invalid("field 'last_scan_at' must be an RFC 3339 date-time");
    if (!b.is_int("last_scan_duration_ms") || !b.is_int("last_scan_certs_found"))
      return invalid("fields 'last_scan_duration_ms' and 'last_scan_certs_found' are required");
    events::json_object p;
    p.set("last_scan_at", b.str("last_scan_at"))
        .set("last_scan_duration_ms", std::max<std::int64_t>(0, b.int64("last_scan_duration_ms")))
        .set("last_scan_certs_found", std::max<std::int64_t>(0, b.int64("last_scan_certs_found")));
    if (b.is_string("discovery_scan_id")) p.set("last_scan_id", b.str("discovery_scan_id"));
    return decision{{"network_scan_target.scan_recorded", p}};
  }

  /// The known fields of `body`, type-checked; required ones enforced on create.
  result<events::json_object, domain_error> checked_fields(const events::json_object& body,
                                                           bool creating) const {
    events::json_object out;
    for (const auto& f : spec_.fields) {
      const bool present = body.has(f.name) && !body.is_null(f.name);
      if (!present) {
        if (creating && f.required)
          return invalid(std::string("field '") + f.name + "' is required");
        continue;
      }
      if (!kind_ok(body, f))
        return invalid(std::string("field '") + f.name + "' must be " + kind_name(f.kind));
      if (f.required && f.kind == 's' && body.str(f.name).empty())
        return invalid(std::string("field '") + f.name + "' must not be empty");
      out.set_raw(f.name, body.raw(f.name));
    }
    return out;
  }

  std::string kind_;
  std::string id_;
  const kind_spec& spec_;
  events::json_object view_;
  bool deleted_ = false;
  std::int64_t last_crl_number_ = 0;  ///< issuers only: the last CRL number published
};

}  // namespace

bool fold_resource(events::json_object& view, bool& deleted, const std::string& kind,
                   const std::string& id, const events::recorded_event& e,
                   const events::json_object& payload) {
  const auto& p = payload;
  const std::string at = events::format_rfc3339(e.occurred_at);
  const std::string verb = e.type.substr(e.type.find('.') + 1);
  if (verb == "created" || verb == "registered") {
    view = p;
    view.set("id", id).set("created_at", at);
    deleted = false;
    if (kind == "agent")
      view.set("registered_at", at).set("status", "Online").set("last_heartbeat_at", at);
  } else if (verb == "updated") {
    view.merge(p);
  } else if (verb == "deleted") {
    deleted = true;
  } else if (verb == "scan_recorded") {
    view.merge(p);
  } else if (verb == "heartbeat_received") {
    view.merge(p);
    view.set("status", "Online").set("last_heartbeat_at", at);
  } else if (verb == "marked_offline") {
    view.set("status", "Offline");
  } else if (verb == "retired") {
    view.set("retired_at", at);
    if (p.has("reason")) view.set("retired_reason", p.str("reason"));
  } else {
    return false;  // e.g. issuer.crl_published: bookkeeping the view does not show
  }
  view.set("updated_at", at);
  return true;
}

const std::vector<std::string>& resource_kinds() {
  static const std::vector<std::string> kinds = [] {
    std::vector<std::string> k;
    for (const auto& [name, spec] : specs()) k.push_back(name);
    return k;
  }();
  return kinds;
}

std::unique_ptr<aggregate> make_resource(const std::string& kind, const std::string& id) {
  auto it = specs().find(kind);
  if (it == specs().end()) return nullptr;
  return std::make_unique<resource>(kind, id, it->second);
}

std::unique_ptr<aggregate> make_aggregate(const std::string& kind, const std::string& id) {
  if (kind == "certificate") return make_certificate(id);
  if (kind == "job") return make_job(id);
  if (kind == "acme_account") return make_acme_account(id);
  if (kind == "acme_key") return make_acme_key(id);
  if (kind == "acme_eab") return make_acme_eab(id);
  if (kind == "acme_order") return make_acme_order(id);
  if (kind == "acme_authz") return make_acme_authz(id);
  if (kind == "intermediate") return make_intermediate(id);
  if (kind == "approval") return make_approval(id);
  if (kind == "discovered_certificate") return make_discovered_certificate(id);
  if (kind == "discovery_scan") return make_discovery_scan(id);
  if (kind == "health_check") return make_health_check(id);
  if (kind == "notification") return make_notification(id);
  return make_resource(kind, id);
}

}  // namespace certctl::domain
