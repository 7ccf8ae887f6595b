#include "domain/intermediate.hpp"

#include <algorithm>

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

const char* const algorithms[] = {"ECDSA-P256", "ECDSA-P384", "RSA-2048",
                                  "RSA-3072",   "RSA-4096",   "Ed25519"};

/// The strings of `v` plus `s`, or without it.
std::vector<std::string> with(std::vector<std::string> v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
  return v;
}
std::vector<std::string> without(std::vector<std::string> v, const std::string& s) {
  v.erase(std::remove(v.begin(), v.end(), s), v.end());
  return v;
}

/// The API's name_constraints array from the two subtree lists.
std::string name_constraints_json(const events::json_object& view) {
  events::json_object nc;
  nc.set("type", "dns")
      .set("permitted", view.str_array("permitted_dns"))
      .set("excluded", view.str_array("excluded_dns"));
  return "[" + nc.dump() + "]";
}

class intermediate final : public aggregate {
 public:
  explicit intermediate(std::string id) : id_(std::move(id)) {}

  std::string kind() const override { return "intermediate"; }
  bool exists() const override { return view_.has("id"); }

  void apply(const events::recorded_event& e) override {
    if (e.type == "intermediate.crl_published") {
      // Bookkeeping only: the intermediate as the API shows it does not change.
      auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
      last_crl_number_ = p.int64("crl_number", last_crl_number_);
      return;
    }
    fold_intermediate(view_, id_, e);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "intermediate.create") return create(c);
    if (!exists()) return not_found("intermediate CA " + id_ + " not found");
    const std::string status = view_.str("status");
    const auto children = view_.str_array("active_children");
    // Any status: a retiring or retired CA still publishes CRLs for what it issued.
    if (c.name == "intermediate.publish_crl") return publish_crl(c.body);
    if (c.name == "intermediate.child_add") {
      const std::string child = c.body.str("child_id");
      if (child.empty()) return invalid("field 'child_id' is required");
      if (status != "active")
        return conflict("parent CA " + id_ + " is " + status + "; it signs no new CA certificates");
      if (std::find(children.begin(), children.end(), child) != children.end()) return decision{};
      events::json_object p;
      p.set("child_id", child);
      return decision{{"intermediate.child_added", p}};
    }
    if (c.name == "intermediate.child_remove") {
      const std::string child = c.body.str("child_id");
      if (std::find(children.begin(), children.end(), child) == children.end()) return decision{};
      events::json_object p;
      p.set("child_id", child).set("reason", c.body.str("reason", "retired"));
      return decision{{"intermediate.child_removed", p}};
    }
    if (c.name == "intermediate.retire") {
      if (auto err = check_fields(c.body, {{"confirm", 'b'}, {"note", 's'}})) return *err;
      const bool confirm = c.body.boolean("confirm");
      events::json_object p;
      if (c.body.is_string("note")) p.set("note", c.body.str("note"));
      if (status == "retired") return decision{};  // terminal; asking again changes nothing
      if (!confirm) {
        if (status == "retiring") return decision{};
        return decision{{"intermediate.retiring", p}};
      }
      if (status == "active")
        return conflict("intermediate CA " + id_ +
                        " is active: retire it first with confirm=false (two-phase retire)");
      if (!children.empty()) {
        std::string list;
        for (const auto& ch : children) list += (list.empty() ? "" : ", ") + ch;
        return conflict("intermediate CA " + id_ + " still has " + std::to_string(children.size()) +
                        " active child CA(s): " + list + "; retire them first");
      }
      return decision{{"intermediate.retired", p}};
    }
    return invalid("unknown command " + c.name);
  }

  events::json_object view() const override { return view_; }

  /// The view, plus the last CRL number under a key the view never has (snapshots taken
  /// before CRLs were published for intermediates are the bare view).
  events::json_object snapshot() const override {
    events::json_object s = view_;
    if (last_crl_number_ > 0) s.set(crl_number_key, last_crl_number_);
    return s;
  }

  void restore(const events::json_object& snapshot) override {
    view_ = snapshot;
    last_crl_number_ = view_.int64(crl_number_key, 0);
    view_.remove(crl_number_key);
  }

 private:
  static constexpr const char* crl_number_key = "_last_crl_number";

  /// intermediate.publish_crl: records a CRL signed with this CA's key, as issuer.publish_crl
  /// does for the root. Numbers only grow (RFC 5280 §5.2.3); a lower or equal one conflicts
  /// and the publisher retries higher, so no CRL is served before its number is in the log.
  result<decision, domain_error> publish_crl(const events::json_object& b) const {
    return decide_crl_publication(b, last_crl_number_, "intermediate.crl_published");
  }

  result<decision, domain_error> create(const command& c) const {
    if (exists()) return conflict("intermediate CA " + id_ + " already exists");
    if (auto err = check_fields(c.body, {{"issuer_id", 's'},
                                         {"parent_ca_id", 's'},
                                         {"name", 's'},
                                         {"certificate_pem", 's'},
                                         {"serial_number", 's'},
                                         {"not_before", 's'},
                                         {"not_after", 's'},
                                         {"fingerprint_sha256", 's'},
                                         {"key_id", 's'},
                                         {"subject", 'o'},
                                         {"algorithm", 's'},
                                         {"permitted_dns", 'a'},
                                         {"excluded_dns", 'a'},
                                         {"ocsp_responder_url", 's'},
                                         {"metadata", 'o'}}))
      return *err;
    if (auto err = require_strings(
            c.body, {"issuer_id", "parent_ca_id", "name", "certificate_pem", "serial_number",
                     "not_before", "not_after", "fingerprint_sha256", "key_id"}))
      return *err;
    // The key stays in the key store: an event is forever and readable by every projection.
    if (c.body.str("certificate_pem").find("PRIVATE KEY") != std::string::npos)
      return invalid("certificate_pem must not contain a private key");
    for (const char* f : {"not_before", "not_after"})
      if (!events::parse_rfc3339(c.body.str(f)))
        return invalid(std::string("field '") + f + "' is not an RFC 3339 time");
    if (c.body.has("path_len_constraint") && !c.body.is_null("path_len_constraint") &&
        !c.body.is_int("path_len_constraint"))
      return invalid("field 'path_len_constraint' must be an integer or null");
    if (c.body.has("depth") && !c.body.is_int("depth"))
      return invalid("field 'depth' must be an integer");
    static const char* const copied[] = {"issuer_id",     "parent_ca_id",
                                         "name",          "certificate_pem",
                                         "serial_number", "not_before",
                                         "not_after",     "fingerprint_sha256",
                                         "key_id",        "subject",
                                         "algorithm",     "permitted_dns",
                                         "excluded_dns",  "ocsp_responder_url",
                                         "metadata",      "depth"};
    events::json_object p;
    for (const char* f : copied)
      if (c.body.has(f) && !c.body.is_null(f)) p.set_raw(f, c.body.raw(f));
    if (c.body.is_int("path_len_constraint"))
      p.set("path_len_constraint", c.body.int64("path_len_constraint"));
    else
      p.set_null("path_len_constraint");
    return decision{{"intermediate.created", p}};
  }

  std::string id_;
  events::json_object view_;
  std::int64_t last_crl_number_ = 0;  ///< the last CRL number published
};

}  // namespace

std::unique_ptr<aggregate> make_intermediate(const std::string& id) {
  return std::make_unique<intermediate>(id);
}

bool fold_intermediate(events::json_object& view, const std::string& id,
                       const events::recorded_event& e) {
  auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "intermediate.created") {
    view = p;
    if (!view.has("permitted_dns")) view.set("permitted_dns", std::vector<std::string>{});
    if (!view.has("excluded_dns")) view.set("excluded_dns", std::vector<std::string>{});
    if (!view.has("metadata")) view.set_raw("metadata", "{}");
    view.set("id", id)
        .set("status", "active")
        .set("created_at", at)
        .set("active_children", std::vector<std::string>{})
        .set_raw("name_constraints", name_constraints_json(view))
        .set("issues_certificates", true)
        .set("serves_revocation_status", true)
        .set("revocation_status_until", p.str("not_after"));
  } else if (e.type == "intermediate.child_added") {
    view.set("active_children", with(view.str_array("active_children"), p.str("child_id")));
  } else if (e.type == "intermediate.child_removed") {
    view.set("active_children", without(view.str_array("active_children"), p.str("child_id")));
  } else if (e.type == "intermediate.retiring") {
    view.set("status", "retiring").set("issues_certificates", false).set("retiring_at", at);
    if (p.has("note")) view.set("retire_note", p.str("note"));
  } else if (e.type == "intermediate.retired") {
    view.set("status", "retired").set("issues_certificates", false).set("retired_at", at);
    if (p.has("note")) view.set("retire_note", p.str("note"));
  } else {
    return false;
  }
  view.set("updated_at", at);
  return true;
}

result<intermediate_request, domain_error> parse_intermediate_request(
    const events::json_object& body) {
  if (auto err = check_fields(body, {{"name", 's'},
                                     {"parent_ca_id", 's'},
                                     {"root_cert_pem", 's'},
                                     {"key_driver_id", 's'},
                                     {"subject", 'o'},
                                     {"algorithm", 's'},
                                     {"ttl_days", 'i'},
                                     {"ocsp_responder_url", 's'},
                                     {"metadata", 'o'}}))
    return *err;
  intermediate_request r;
  r.name = body.str("name");
  if (r.name.empty()) return invalid("field 'name' is required");
  if (r.name.size() > 255) return invalid("field 'name' is longer than 255 characters");
  r.parent_ca_id = body.str("parent_ca_id");
  if (r.parent_ca_id.empty()) {
    if (!body.str("root_cert_pem").empty() || !body.str("key_driver_id").empty())
      return invalid(
          "operator-supplied roots not supported here: root_cert_pem/key_driver_id registration "
          "needs a signer driver this server does not have; the issuer's own CA is the root "
          "(name it, e.g. \"iss-local\", as parent_ca_id)");
    return invalid(
        "field 'parent_ca_id' is required: name an intermediate CA or the issuer's "
        "root CA (its issuer id, e.g. \"iss-local\")");
  }
  if (body.is_object("subject")) {
    auto subject = events::json_object::parse(body.raw("subject")).value_or(events::json_object{});
    if (auto err = check_fields(
            subject, {{"common_name", 's'}, {"organization", 's'}, {"organizational_unit", 's'}}))
      return invalid("subject: " + err->message);
    r.common_name = subject.str("common_name");
    r.organization = subject.str("organization");
    r.organizational_unit = subject.str("organizational_unit");
  }
  if (r.common_name.empty()) r.common_name = r.name;
  if (r.common_name.size() > 64)  // RFC 5280 ub-common-name
    return invalid("subject common_name is longer than 64 characters");
  if (body.is_string("algorithm") && !body.str("algorithm").empty()) {
    r.algorithm = body.str("algorithm");
    if (std::find_if(std::begin(algorithms), std::end(algorithms),
                     [&](const char* a) { return r.algorithm == a; }) == std::end(algorithms))
      return invalid("algorithm '" + r.algorithm +
                     "' is not one of ECDSA-P256, ECDSA-P384, RSA-2048, RSA-3072, RSA-4096, "
                     "Ed25519");
  }
  if (body.is_int("ttl_days")) {
    r.ttl_days = body.int64("ttl_days");
    if (r.ttl_days < 1 || r.ttl_days > 36500)
      return invalid("field 'ttl_days' must be between 1 and 36500");
  }
  if (body.has("path_len_constraint") && !body.is_null("path_len_constraint")) {
    if (!body.is_int("path_len_constraint"))
      return invalid("field 'path_len_constraint' must be an integer or null");
    const auto v = body.int64("path_len_constraint");
    if (v < 0 || v > 16) return invalid("field 'path_len_constraint' must be between 0 and 16");
    r.path_len = static_cast<int>(v);
  }
  if (body.has("name_constraints") && !body.is_null("name_constraints")) {
    if (!body.is_array("name_constraints"))
      return invalid("field 'name_constraints' must be an array of objects");
    const auto entries = body.object_array("name_constraints");
    // object_array skips other elements; re-serialised, the objects alone must be the array.
    std::string rebuilt;
    for (const auto& nc : entries) rebuilt += (rebuilt.empty() ? "" : ",") + nc.dump();
    if (body.raw("name_constraints") != "[" + rebuilt + "]")
      return invalid("field 'name_constraints' must be an array of objects");
    for (const auto& nc : entries) {
      if (auto err = check_fields(nc, {{"type", 's'}, {"permitted", 'a'}, {"excluded", 'a'}}))
        return invalid("name_constraints: " + err->message);
      for (const auto& k : nc.keys())
        if (k != "type" && k != "permitted" && k != "excluded")
          return invalid("name_constraints: unknown field '" + k +
                         "' (expected type, permitted, excluded)");
      const std::string type = nc.str("type", "dns");
      if (type != "dns" && type != "DNS")
        return invalid("name_constraints: type '" + type + "' is not supported; only dns is");
      for (const auto& s : nc.str_array("permitted")) r.permitted_dns.push_back(s);
      for (const auto& s : nc.str_array("excluded")) r.excluded_dns.push_back(s);
    }
    if (r.permitted_dns.size() + r.excluded_dns.size() > 100)
      return invalid("name_constraints: at most 100 subtrees");
  }
  r.ocsp_responder_url = body.str("ocsp_responder_url");
  if (!r.ocsp_responder_url.empty() && r.ocsp_responder_url.rfind("http://", 0) != 0 &&
      r.ocsp_responder_url.rfind("https://", 0) != 0)
    return invalid("field 'ocsp_responder_url' must be an http(s) URL");
  if (body.is_object("metadata")) r.metadata_json = body.raw("metadata");
  return r;
}

}  // namespace certctl::domain
