#include "domain/policy_rules.hpp"

#include <algorithm>
#include <cctype>

#include "domain/rules.hpp"

namespace certctl::domain {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

/// IP literals are not domain names: AllowedDomains leaves them alone.
bool is_ip_literal(const std::string& name) {
  if (name.find(':') != std::string::npos) return true;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c == '.' || std::isdigit(static_cast<unsigned char>(c));
  });
}

/// "example.com" matches the name and its subdomains; "*.example.com" only its subdomains.
bool domain_allows(const std::string& pattern, const std::string& name) {
  std::string base = lower(pattern);
  bool subdomains_only = false;
  if (base.rfind("*.", 0) == 0) {
    base = base.substr(2);
    subdomains_only = true;
  }
  if (base.empty()) return false;
  if (name == base) return !subdomains_only;
  return name.size() > base.size() + 1 &&
         name.compare(name.size() - base.size(), base.size(), base) == 0 &&
         name[name.size() - base.size() - 1] == '.';
}

std::optional<domain_error> non_empty_strings(const events::json_object& config, const char* key,
                                              bool required) {
  if (!config.has(key)) {
    if (required) return invalid(std::string("config.") + key + " is required");
    return std::nullopt;
  }
  if (!config.is_string_array(key))
    return invalid(std::string("config.") + key + " must be an array of strings");
  const auto values = config.str_array(key);
  if (required && values.empty()) return invalid(std::string("config.") + key + " is empty");
  if (values.size() > 1000) return invalid(std::string("config.") + key + " has over 1000 entries");
  for (const auto& v : values)
    if (v.empty() || v.size() > 253)
      return invalid(std::string("config.") + key + " has an empty or over-long entry");
  return std::nullopt;
}

std::optional<domain_error> day_bound(const events::json_object& config, const char* key) {
  if (!config.has(key)) return std::nullopt;
  if (!config.is_int(key) || config.int64(key) < 0 || config.int64(key) > 3660)
    return invalid(std::string("config.") + key + " must be an integer between 0 and 3660");
  return std::nullopt;
}

const std::vector<std::string> metadata_fields = {"owner_id",          "team_id",
                                                  "environment",       "issuer_id",
                                                  "renewal_policy_id", "certificate_profile_id"};

std::optional<domain_error> validate_config(const std::string& type, const events::json_object& c) {
  if (type == "AllowedIssuers") return non_empty_strings(c, "issuer_ids", true);
  if (type == "AllowedDomains") return non_empty_strings(c, "domains", true);
  if (type == "AllowedEnvironments") return non_empty_strings(c, "environments", true);
  if (type == "RequiredMetadata") {
    if (auto e = non_empty_strings(c, "fields", false)) return e;
    if (auto e = non_empty_strings(c, "tags", false)) return e;
    if (c.str_array("fields").empty() && c.str_array("tags").empty())
      return invalid("config needs 'fields' or 'tags' (the metadata to require)");
    for (const auto& f : c.str_array("fields"))
      if (!contains(metadata_fields, f))
        return invalid("config.fields: unknown field '" + f +
                       "' (owner_id, team_id, environment, issuer_id, renewal_policy_id, "
                       "certificate_profile_id)");
    return std::nullopt;
  }
  if (type == "RenewalLeadTime") {
    if (auto e = day_bound(c, "min_days")) return e;
    if (auto e = day_bound(c, "max_days")) return e;
    if (!c.has("min_days") && !c.has("max_days"))
      return invalid("config needs 'min_days' or 'max_days'");
    if (c.has("min_days") && c.has("max_days") && c.int64("min_days") > c.int64("max_days"))
      return invalid("config.min_days is above config.max_days");
    return std::nullopt;
  }
  if (type == "CertificateLifetime") {
    if (!c.has("max_days")) return invalid("config.max_days is required");
    if (!c.is_int("max_days") || c.int64("max_days") < 1 || c.int64("max_days") > 3660)
      return invalid("config.max_days must be an integer between 1 and 3660");
    return std::nullopt;
  }
  return invalid("unknown policy type '" + type + "'");
}

std::string field_value(const certificate_facts& f, const std::string& field) {
  if (field == "owner_id") return f.owner_id;
  if (field == "team_id") return f.team_id;
  if (field == "environment") return f.environment;
  if (field == "issuer_id") return f.issuer_id;
  if (field == "renewal_policy_id") return f.renewal_policy_id;
  return f.certificate_profile_id;
}

std::optional<std::string> violation_of(const std::string& type, const events::json_object& c,
                                        const certificate_facts& f) {
  if (type == "AllowedIssuers") {
    if (f.issuer_id.empty() || contains(c.str_array("issuer_ids"), f.issuer_id))
      return std::nullopt;
    return "issuer " + f.issuer_id + " is not an allowed issuer";
  }
  if (type == "AllowedDomains") {
    const auto patterns = c.str_array("domains");
    std::vector<std::string> names = f.sans;
    if (!f.common_name.empty()) names.push_back(f.common_name);
    for (const auto& raw : names) {
      std::string name = lower(raw);
      if (auto at = name.rfind('@'); at != std::string::npos) name = name.substr(at + 1);
      if (name.empty() || is_ip_literal(name)) continue;
      const bool ok = std::any_of(patterns.begin(), patterns.end(),
                                  [&](const std::string& p) { return domain_allows(p, name); });
      if (!ok) return "name " + raw + " is not in the allowed domains";
    }
    return std::nullopt;
  }
  if (type == "AllowedEnvironments") {
    if (contains(c.str_array("environments"), f.environment)) return std::nullopt;
    return f.environment.empty()
               ? std::string("no environment set (allowed: ") +
                     std::to_string(c.str_array("environments").size()) + " environments)"
               : "environment " + f.environment + " is not allowed";
  }
  if (type == "RequiredMetadata") {
    for (const auto& field : c.str_array("fields"))
      if (field_value(f, field).empty()) return "required field " + field + " is empty";
    for (const auto& tag : c.str_array("tags"))
      if (!contains(f.tag_keys, tag)) return "required tag " + tag + " is missing";
    return std::nullopt;
  }
  if (type == "RenewalLeadTime") {
    if (!f.renewal_window_days) return std::nullopt;
    const auto days = *f.renewal_window_days;
    if (c.has("min_days") && days < c.int64("min_days"))
      return "renewal window of " + std::to_string(days) + " days is below the minimum of " +
             std::to_string(c.int64("min_days"));
    if (c.has("max_days") && days > c.int64("max_days"))
      return "renewal window of " + std::to_string(days) + " days is above the maximum of " +
             std::to_string(c.int64("max_days"));
    return std::nullopt;
  }
  if (type == "CertificateLifetime") {
    if (!f.lifetime_days || *f.lifetime_days <= c.int64("max_days")) return std::nullopt;
    return "lifetime of " + std::to_string(*f.lifetime_days) + " days exceeds the maximum of " +
           std::to_string(c.int64("max_days"));
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& policy_types() {
  static const std::vector<std::string> t = {"AllowedIssuers",   "AllowedDomains",
                                             "RequiredMetadata", "AllowedEnvironments",
                                             "RenewalLeadTime",  "CertificateLifetime"};
  return t;
}

const std::vector<std::string>& policy_severities() {
  static const std::vector<std::string> s = {"Warning", "Error", "Critical"};
  return s;
}

std::optional<domain_error> validate_policy(const events::json_object& policy) {
  if (policy.str("name").size() > 255) return invalid("field 'name' is longer than 255 characters");
  const std::string type = policy.str("type");
  if (!contains(policy_types(), type))
    return invalid(
        "field 'type' must be one of AllowedIssuers, AllowedDomains, RequiredMetadata, "
        "AllowedEnvironments, RenewalLeadTime, CertificateLifetime");
  if (!contains(policy_severities(), policy.str("severity")))
    return invalid("field 'severity' must be Warning, Error or Critical");
  const auto config = events::json_object::parse(policy.has("config") ? policy.raw("config") : "{}")
                          .value_or(events::json_object{});
  return validate_config(type, config);
}

certificate_facts facts_of_certificate(const std::string& id, const events::json_object& view) {
  certificate_facts f;
  f.certificate_id = id;
  f.common_name = view.str("common_name");
  f.sans = view.str_array("sans");
  f.issuer_id = view.str("issuer_id");
  f.environment = view.str("environment");
  f.owner_id = view.str("owner_id");
  f.team_id = view.str("team_id");
  f.renewal_policy_id = view.str("renewal_policy_id");
  f.certificate_profile_id = view.str("certificate_profile_id");
  if (view.is_object("tags"))
    f.tag_keys =
        events::json_object::parse(view.raw("tags")).value_or(events::json_object{}).keys();
  return f;
}

std::optional<policy_finding> evaluate_policy(const events::json_object& policy,
                                              const certificate_facts& facts) {
  if (!policy.boolean("enabled", true)) return std::nullopt;
  const std::string type = policy.str("type");
  const auto config = events::json_object::parse(policy.has("config") ? policy.raw("config") : "{}")
                          .value_or(events::json_object{});
  auto message = violation_of(type, config, facts);
  if (!message) return std::nullopt;
  return policy_finding{policy.str("id"), policy.str("name"), type,
                        policy.str("severity", "Warning"), *message};
}

std::string describe(const policy_finding& f) {
  return "policy " + f.rule_name + " (" + f.rule_id + ", " + f.rule_type + ", " + f.severity +
         "): " + f.message;
}

}  // namespace certctl::domain
