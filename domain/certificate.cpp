#include "domain/certificate.hpp"

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

// Fields a client may set on create/update (ManagedCertificate in the API).
constexpr std::initializer_list<std::pair<const char*, char>> editable_fields = {
    {"name", 's'},
    {"common_name", 's'},
    {"sans", 'a'},
    {"environment", 's'},
    {"owner_id", 's'},
    {"team_id", 's'},
    {"issuer_id", 's'},
    {"target_ids", 'a'},
    {"renewal_policy_id", 's'},
    {"certificate_profile_id", 's'},
    {"tags", 'o'}};

events::json_object editable_subset(const events::json_object& body) {
  events::json_object out;
  for (const auto& [field, kind] : editable_fields) {
    if (!body.has(field) || body.is_null(field)) continue;
    if (kind == 'a')
      out.set(field, body.str_array(field));
    else if (kind == 'o')
      out.set(field, body.str_map(field));
    else
      out.set(field, body.str(field));
  }
  return out;
}

/// SANs a certificate may name, and the length of each: a DNS name is at most 253 characters,
/// an email address 254; 1024 leaves room for URI SANs (docs/security-limits.md).
constexpr std::size_t max_sans = 100;
constexpr std::size_t max_san_length = 1024;

/// The SAN limits, on create and on update alike.
std::optional<domain_error> check_sans(const events::json_object& body) {
  const auto sans = body.str_array("sans");
  if (sans.size() > max_sans)
    return invalid("at most " + std::to_string(max_sans) + " SANs are allowed");
  for (const auto& san : sans)
    if (san.size() > max_san_length)
      return invalid("a SAN is longer than " + std::to_string(max_san_length) + " characters");
  return std::nullopt;
}

bool in(const std::string& s, std::initializer_list<const char*> set) {
  for (const char* x : set)
    if (s == x) return true;
  return false;
}

class certificate final : public aggregate {
 public:
  explicit certificate(std::string id) : id_(std::move(id)) {}

  std::string kind() const override { return "certificate"; }
  bool exists() const override { return view_.has("id"); }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    if (e.type == "certificate.issued") {
      serial_ = p.str("serial_number");
      last_issued_job_ = p.str("job_id");
      versions_ += 1;
    }
    fold_certificate(view_, id_, e, p);
  }

  result<decision, domain_error> decide(const command& c) const override {
    const std::string status = view_.str("status");
    if (c.name == "certificate.create") {
      if (exists()) return conflict("certificate " + id_ + " already exists");
      if (auto err = check_fields(c.body, editable_fields)) return *err;
      if (auto err = require_strings(c.body, {"name", "common_name", "renewal_policy_id",
                                              "issuer_id", "owner_id", "team_id"}))
        return *err;
      if (c.body.str("common_name").size() > 253)
        return invalid("common_name is longer than 253 characters");
      if (auto err = check_sans(c.body)) return *err;
      return decision{{"certificate.created", editable_subset(c.body)}};
    }
    if (!exists()) return not_found("certificate " + id_ + " not found");
    if (c.name == "certificate.update") {
      if (status == "Archived") return conflict("certificate " + id_ + " is archived");
      if (auto err = check_fields(c.body, editable_fields)) return *err;
      if (auto err = check_sans(c.body)) return *err;
      auto changes = editable_subset(c.body);
      if (changes.keys().empty()) return decision{};
      return decision{{"certificate.updated", changes}};
    }
    if (c.name == "certificate.renew") {
      if (in(status, {"Revoked", "Archived"}))
        return conflict("certificate " + id_ + " is " + status + " and cannot be renewed");
      if (in(status, {"RenewalInProgress", "Pending"}))
        return conflict("certificate " + id_ + " already has an issuance in progress");
      events::json_object p;
      p.set("job_id", c.body.str("job_id"));
      return decision{{"certificate.renewal_requested", p}};
    }
    // A job issues one version. After a crash between recording the version and completing
    // the job, the job is retried: check_issuance lets the worker learn that before it signs
    // anything, and record_issued refuses a second version for the same job regardless.
    if (c.name == "certificate.check_issuance") {
      if (!c.body.str("job_id").empty() && c.body.str("job_id") == last_issued_job_)
        return conflict(already_issued(c.body.str("job_id")));
      return decision{};
    }
    if (c.name == "certificate.record_issued") {
      if (!c.body.str("job_id").empty() && c.body.str("job_id") == last_issued_job_)
        return conflict(already_issued(c.body.str("job_id")));
      if (in(status, {"Revoked", "Archived"}))
        return conflict("certificate " + id_ + " is " + status +
                        "; the issued version is not recorded");
      if (auto err = require_strings(c.body, {"job_id", "serial_number", "not_before", "not_after",
                                              "fingerprint_sha256", "pem_chain"}))
        return *err;
      events::json_object p = c.body;
      p.set("renewal", versions_ > 0);
      return decision{{"certificate.issued", p}};
    }
    if (c.name == "certificate.record_failure") {
      if (!in(status, {"Pending", "RenewalInProgress"})) return decision{};
      events::json_object p;
      p.set("job_id", c.body.str("job_id")).set("error", c.body.str("error"));
      return decision{{"certificate.issuance_failed", p}};
    }
    if (c.name == "certificate.revoke") {
      if (status == "Revoked") return conflict("certificate " + id_ + " is already revoked");
      if (status == "Archived") return conflict("certificate " + id_ + " is archived");
      if (serial_.empty())
        return conflict("certificate " + id_ + " has no issued version to revoke");
      const std::string reason = c.body.str("reason", "unspecified");
      const int code = revocation_reason_code(reason);
      if (code < 0) return invalid("unknown revocation reason '" + reason + "'");
      events::json_object p;
      p.set("reason", reason).set("reason_code", code).set("serial_number", serial_);
      return decision{{"certificate.revoked", p}};
    }
    // The issuing CA's answer to a revocation we recorded (actors/workflows/ca_revocation):
    // audit only, the certificate stays Revoked whatever the CA said.
    if (c.name == "certificate.record_ca_revocation") {
      if (!in(status, {"Revoked", "Archived"}))
        return conflict("certificate " + id_ + " is not revoked");
      if (auto err = require_strings(c.body, {"serial_number", "issuer_id", "outcome"}))
        return *err;
      const std::string outcome = c.body.str("outcome");
      if (outcome != "succeeded" && outcome != "failed")
        return invalid("outcome must be succeeded or failed");
      events::json_object p;
      p.set("serial_number", c.body.str("serial_number"))
          .set("issuer_id", c.body.str("issuer_id"))
          .set("issuer_type", c.body.str("issuer_type"))
          .set("reason", c.body.str("reason", "unspecified"))
          .set("attempts", c.body.int64("attempts"));
      if (outcome == "failed") p.set("error", c.body.str("error"));
      return decision{{"certificate.ca_revocation_" + outcome, p}};
    }
    if (c.name == "certificate.archive") {
      if (status == "Archived") return decision{};
      return decision{{"certificate.archived", events::json_object{}}};
    }
    // Audit only: the gateway records who took a copy of the private key before it hands one
    // out. Who and from where are the envelope's principal and source address; the payload
    // names the format and version, never the key or the passphrase.
    if (c.name == "certificate.record_key_export") {
      if (auto err = require_strings(c.body, {"format", "version_id"})) return *err;
      events::json_object p;
      p.set("format", c.body.str("format"))
          .set("version_id", c.body.str("version_id"))
          .set("serial_number", c.body.str("serial_number"));
      return decision{{"certificate.key_exported", p}};
    }
    if (c.name == "certificate.mark_status") {
      const std::string to = c.body.str("status");
      if (!in(to, {"Expiring", "Expired"})) return invalid("status must be Expiring or Expired");
      if (!in(status, {"Active", "Expiring"}) || status == to) return decision{};
      events::json_object p;
      p.set("status", to).set("from", status);
      return decision{{"certificate.status_changed", p}};
    }
    return invalid("unknown command " + c.name);
  }

  events::json_object view() const override { return view_; }

  events::json_object snapshot() const override {
    events::json_object s;
    s.set_raw("view", view_.dump())
        .set("versions", static_cast<std::int64_t>(versions_))
        .set("serial", serial_)
        .set("last_issued_job", last_issued_job_);
    return s;
  }

  void restore(const events::json_object& snapshot) override {
    view_ = events::json_object::parse(snapshot.raw("view")).value_or(events::json_object{});
    versions_ = static_cast<int>(snapshot.int64("versions"));
    serial_ = snapshot.str("serial");
    last_issued_job_ = snapshot.str("last_issued_job");
  }

 private:
  std::string id_;
  events::json_object view_;
  int versions_ = 0;
  std::string serial_;           ///< of the current version; the API shows it on versions only
  std::string last_issued_job_;  ///< job that recorded the current version

  std::string already_issued(const std::string& job_id) const {
    return "job " + job_id + " already recorded a version of certificate " + id_;
  }
};

}  // namespace

std::unique_ptr<aggregate> make_certificate(const std::string& id) {
  return std::make_unique<certificate>(id);
}

bool fold_certificate(events::json_object& view, const std::string& id,
                      const events::recorded_event& e, const events::json_object& payload) {
  const auto& p = payload;
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "certificate.created") {
    view = p;
    view.set("id", id).set("status", "Pending").set("created_at", at);
    if (!view.has("sans")) view.set("sans", std::vector<std::string>{});
    if (!view.has("target_ids")) view.set("target_ids", std::vector<std::string>{});
    if (!view.has("tags")) view.set("tags", std::map<std::string, std::string>{});
  } else if (e.type == "certificate.updated") {
    view.merge(p);
  } else if (e.type == "certificate.renewal_requested") {
    view.set("status", "RenewalInProgress");
  } else if (e.type == "certificate.issued") {
    view.set("status", "Active").set("expires_at", p.str("not_after"));
    // Where the current version's key was made: deployments by an agent need an agent key.
    if (p.is_string("keygen")) view.set("keygen", p.str("keygen"));
    if (p.boolean("renewal")) view.set("last_renewal_at", at);
  } else if (e.type == "certificate.issuance_failed") {
    view.set("status", "Failed");
  } else if (e.type == "certificate.revoked") {
    view.set("status", "Revoked").set("revoked_at", at).set("revocation_reason", p.str("reason"));
  } else if (e.type == "certificate.archived") {
    view.set("status", "Archived");
  } else if (e.type == "certificate.status_changed") {
    view.set("status", p.str("status"));
  } else {
    return false;
  }
  view.set("updated_at", at);
  return true;
}

int revocation_reason_code(const std::string& reason) {
  // RFC 5280 §5.3.1; value 7 is unused by the RFC.
  static const std::pair<const char*, int> codes[] = {
      {"unspecified", 0},        {"keyCompromise", 1}, {"caCompromise", 2},
      {"affiliationChanged", 3}, {"superseded", 4},    {"cessationOfOperation", 5},
      {"certificateHold", 6},    {"removeFromCRL", 8}, {"privilegeWithdrawn", 9},
      {"aaCompromise", 10}};
  for (const auto& [name, code] : codes)
    if (reason == name) return code;
  return -1;
}

}  // namespace certctl::domain
